"""MCP Tasks on both protocol revisions, over the durable TaskService.

2025-11-25 (core, experimental): the server declares `capabilities.tasks`; `generate_image`,
`generate_image_and_wait` and `wait_for_completion` declare `execution.taskSupport: "optional"`; a
`tools/call` carrying `task` is answered with a `CreateTaskResult`; `tasks/get`, `tasks/result` (blocks
until the task is finished, within the request's deadline), `tasks/list` and `tasks/cancel` follow.

2026-07-28 (the `io.modelcontextprotocol/tasks` extension, SEP-2663): the server advertises the
extension; when a request declares it, the calls that wait (`generate_image_and_wait`,
`wait_for_completion`) are answered with a task handle (`resultType: "task"`) instead of holding the
connection; `tasks/get` returns the result inline once the task completes; `tasks/cancel` and
`tasks/update` follow. Task status notifications are not sent: a stateless endpoint (and API Gateway)
has no stream to carry them; clients poll at the suggested interval.

The SDK has no server-side task runtime, so this module supplies one: its types (`Task`,
`CreateTaskResult`, ...) and its extension mechanism (`Extension`, `MethodBinding`) carry the wire and
the routing, and the task state comes from the job store. A `tools/call` that becomes a task is
intercepted in server middleware, because the SDK validates a 2025-11-25 `tools/call` result as a
`CallToolResult` and a `CreateTaskResult` is not one.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.extension import Extension, MethodBinding
from mcp.server.mcpserver.server import require_client_extension
from mcp.shared.exceptions import MCPError
from mcp_types import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    METHOD_NOT_FOUND,
    REQUEST_TIMEOUT,
    CallToolResult,
    ListTasksResult,
    PaginatedRequestParams,
    RequestParams,
    Task,
)
from mcp_types import methods as wire
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import ConfigDict, Field

from imagegen.domain.caller import Caller
from imagegen.domain.errors import ImagegenError
from imagegen.domain.tasks import TaskAlreadyFinished, TaskNotFound, TaskStatus
from imagegen.mcp.context import AppContext, current_caller, current_deadline, starting_task
from imagegen.mcp.presenters import THUMBNAIL_BUDGET_SECONDS, queued_answer, wait_answer
from imagegen.services.history import HistoryService
from imagegen.services.jobs import WaitOutcome
from imagegen.services.tasks import TaskSnapshot, TaskStillWorking

TASKS_EXTENSION = "io.modelcontextprotocol/tasks"
RELATED_TASK_META = "io.modelcontextprotocol/related-task"
IMMEDIATE_RESPONSE_META = "io.modelcontextprotocol/model-immediate-response"
TASK_PROTOCOL = "2025-11-25"  # the revision whose core has tasks
MODERN = frozenset(MODERN_PROTOCOL_VERSIONS)
# 2025-11-25: the tools a client may call as tasks. generate_image's own answer is immediate, so its
# task completes at once with it; the waiting tools' tasks complete when their jobs do.
TASK_TOOLS = ("generate_image", "generate_image_and_wait", "wait_for_completion")
FINISHED_AT_ONCE = frozenset({"generate_image"})
# 2026-07-28: the server decides; it answers with a task where the call would otherwise wait.
SERVER_DIRECTED = frozenset({"generate_image_and_wait", "wait_for_completion"})
LEGACY_CAPABILITY: dict[str, Any] = {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}


class TaskIdParams(RequestParams):
    model_config = ConfigDict(populate_by_name=True, extra="allow")

    task_id: str = Field(alias="taskId")


class TaskUpdateParams(TaskIdParams):
    input_responses: dict[str, Any] = Field(default_factory=dict, alias="inputResponses")


class TaskProtocol:
    """The tasks wire of both revisions for one server: its middleware, its extension, its answers."""

    def __init__(
        self, app: AppContext, history: HistoryService, tools: Callable[[], Collection[str]]
    ) -> None:
        self._app = app
        self._history = history
        self._tools = (
            tools  # the names of the server's tools, to tell a tool that exists from one that does not
        )

    # ------------------------------------------------------------ wiring

    def extension(self) -> Extension:
        protocol = self

        class TasksExtension(Extension):
            identifier = TASKS_EXTENSION

            def methods(self) -> list[MethodBinding]:
                both = frozenset({TASK_PROTOCOL, *MODERN})
                return [
                    MethodBinding("tasks/get", TaskIdParams, protocol.get, both),
                    MethodBinding("tasks/cancel", TaskIdParams, protocol.cancel, both),
                    MethodBinding("tasks/result", TaskIdParams, protocol.result, frozenset({TASK_PROTOCOL})),
                    MethodBinding(
                        "tasks/list", PaginatedRequestParams, protocol.list, frozenset({TASK_PROTOCOL})
                    ),
                    MethodBinding("tasks/update", TaskUpdateParams, protocol.update, MODERN),
                ]

        return TasksExtension()

    async def middleware(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method == "initialize":
            return _with_legacy_capability(await call_next(ctx))
        if ctx.method != "tools/call" or ctx.request_id is None:
            return await call_next(ctx)
        params: Mapping[str, Any] = ctx.params or {}
        tool = str(params.get("name", ""))
        if ctx.protocol_version in MODERN:
            if tool not in SERVER_DIRECTED or not _declares_tasks(ctx):
                return await call_next(ctx)
            return await self._start(ctx, call_next, tool, None)
        requested = params.get("task")
        if not isinstance(requested, Mapping):
            return await call_next(ctx)
        if tool not in TASK_TOOLS:
            if tool not in self._tools():
                return await call_next(ctx)  # the unknown-tool answer
            raise MCPError(
                code=METHOD_NOT_FOUND, message=f"Tool {tool!r} cannot run as a task; call it without task."
            )
        ttl = requested.get("ttl")
        return await self._start(
            ctx, call_next, tool, timedelta(milliseconds=ttl) if isinstance(ttl, int | float) else None
        )

    # ------------------------------------------------------------ tools/call as a task

    async def _start(
        self, ctx: ServerRequestContext[Any, Any], call_next: CallNext, tool: str, ttl: timedelta | None
    ) -> dict[str, Any]:
        reset = starting_task.set(True)
        try:
            answer = _as_dict(await call_next(ctx))
        finally:
            starting_task.reset(reset)
        refused = bool(answer.get("isError"))
        structured = answer.get("structuredContent") or {}
        job_ids = [] if refused else _job_ids(structured)
        try:
            snapshot = await self._app.tasks.start(
                _caller(),
                tool,
                job_ids,
                ttl,
                finished_at_once=tool in FINISHED_AT_ONCE,
                immediate_result=_without_meta(answer) if refused else None,
            )
        except ImagegenError as exc:
            raise MCPError(code=INTERNAL_ERROR, message=f"Could not start the task: {exc}") from exc
        text = next(
            (block.get("text") for block in answer.get("content", []) if block.get("type") == "text"), None
        )
        if ctx.protocol_version in MODERN:
            meta = answer.get("_meta")
            return {"resultType": "task", **_modern_task(snapshot), **({"_meta": meta} if meta else {})}
        created: dict[str, Any] = {"task": _legacy_task(snapshot)}
        if text:
            # What a host may hand the model while the task runs (2025-11-25, provisional).
            created["_meta"] = {
                IMMEDIATE_RESPONSE_META: f"{text} (Running as task {snapshot.record.task_id}.)"
            }
        return created

    # ------------------------------------------------------------ methods

    async def get(self, ctx: ServerRequestContext[Any, Any], params: TaskIdParams) -> dict[str, Any]:
        snapshot = await self._read(ctx, params.task_id)
        if ctx.protocol_version in MODERN:
            return await self._detailed(snapshot, ctx.protocol_version)
        return _legacy_task(snapshot)

    async def result(self, ctx: ServerRequestContext[Any, Any], params: TaskIdParams) -> dict[str, Any]:
        deadline = current_deadline.get()
        try:
            snapshot = await self._app.tasks.wait(
                _caller(), params.task_id, deadline.earlier_by(THUMBNAIL_BUDGET_SECONDS) if deadline else None
            )
        except TaskNotFound as exc:
            raise MCPError(code=INVALID_PARAMS, message=str(exc)) from exc
        except TaskStillWorking as exc:
            raise MCPError(code=REQUEST_TIMEOUT, message=str(exc)) from exc
        answer = await self._answer(snapshot, ctx.protocol_version)
        meta = dict(answer.get("_meta") or {})
        meta[RELATED_TASK_META] = {"taskId": snapshot.record.task_id}
        return {**answer, "_meta": meta}

    async def list(
        self, ctx: ServerRequestContext[Any, Any], params: PaginatedRequestParams
    ) -> dict[str, Any]:
        try:
            snapshots, cursor = await self._app.tasks.list(_caller(), params.cursor)
        except ImagegenError as exc:  # a cursor that is not ours
            raise MCPError(code=INVALID_PARAMS, message=str(exc)) from exc
        listed = ListTasksResult(
            tasks=[Task.model_validate(_legacy_task(item)) for item in snapshots], next_cursor=cursor
        )
        return listed.model_dump(by_alias=True, mode="json", exclude_none=True)

    async def cancel(self, ctx: ServerRequestContext[Any, Any], params: TaskIdParams) -> dict[str, Any]:
        modern = ctx.protocol_version in MODERN
        if modern:
            require_client_extension(ctx, TASKS_EXTENSION)
        try:
            snapshot = await self._app.tasks.cancel(_caller(), params.task_id)
        except TaskNotFound as exc:
            raise MCPError(code=INVALID_PARAMS, message=str(exc)) from exc
        except TaskAlreadyFinished as exc:
            # 2025-11-25 refuses to cancel a finished task; 2026-07-28 acknowledges (cancelling is a wish).
            if modern:
                return {}
            raise MCPError(code=INVALID_PARAMS, message=str(exc)) from exc
        return {} if modern else _legacy_task(snapshot)

    async def update(self, ctx: ServerRequestContext[Any, Any], params: TaskUpdateParams) -> dict[str, Any]:
        # These tasks never ask the client for input: every response is for a request never issued, which
        # the extension says to ignore; the task must still be the caller's.
        await self._read(ctx, params.task_id)
        return {}

    async def _read(self, ctx: ServerRequestContext[Any, Any], task_id: str) -> TaskSnapshot:
        if ctx.protocol_version in MODERN:
            require_client_extension(ctx, TASKS_EXTENSION)
        try:
            return await self._app.tasks.get(_caller(), task_id)
        except TaskNotFound as exc:
            raise MCPError(code=INVALID_PARAMS, message=str(exc)) from exc

    # ------------------------------------------------------------ answers

    async def _detailed(self, snapshot: TaskSnapshot, version: str) -> dict[str, Any]:
        task = _modern_task(snapshot)
        if snapshot.state.status is TaskStatus.COMPLETED:
            task["result"] = await self._answer(snapshot, version)
        return task

    async def _answer(self, snapshot: TaskSnapshot, version: str) -> dict[str, Any]:
        """What the task's tool call answers now that it is done, in the wire shape of `version`."""
        record = snapshot.record
        if record.immediate_result is not None:
            answer: CallToolResult | dict[str, Any] = record.immediate_result
        elif record.tool in FINISHED_AT_ONCE:
            answer = queued_answer(snapshot.jobs, self._app.provider_name)
        else:
            elapsed = (snapshot.state.last_updated_at - record.created_at).total_seconds()
            outcome = WaitOutcome(
                jobs=snapshot.jobs, timed_out=not snapshot.state.status.is_terminal, elapsed_seconds=elapsed
            )
            answer = await wait_answer(self._app, self._history, outcome)
        document = _as_dict(answer)
        if version in MODERN:
            document.setdefault("resultType", "complete")  # the stored refusal was kept without it
        return wire.serialize_server_result("tools/call", version, document)


def _with_legacy_capability(result: HandlerResult) -> HandlerResult:
    document = _as_dict(result)
    if document.get("protocolVersion") == TASK_PROTOCOL and isinstance(document.get("capabilities"), dict):
        document["capabilities"]["tasks"] = LEGACY_CAPABILITY
        return document
    return result


def _declares_tasks(ctx: ServerRequestContext[Any, Any]) -> bool:
    capabilities = ctx.session.client_capabilities
    return bool(capabilities and capabilities.extensions and TASKS_EXTENSION in capabilities.extensions)


def _caller() -> Caller:
    caller = current_caller.get()
    if caller is None:
        raise MCPError(code=INVALID_PARAMS, message="This request is not authenticated.")
    return caller


def _job_ids(structured: Mapping[str, Any]) -> list[str]:
    if isinstance(structured.get("job_ids"), list):
        return [str(job_id) for job_id in structured["job_ids"]]
    return [str(job["job_id"]) for job in structured.get("jobs", [])]


def _as_dict(result: HandlerResult | CallToolResult | Mapping[str, Any]) -> dict[str, Any]:
    if result is None:
        return {}
    if isinstance(result, Mapping):
        return dict(result)
    return result.model_dump(by_alias=True, mode="json", exclude_none=True)


def _without_meta(answer: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in answer.items() if key not in ("_meta", "resultType")}


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _milliseconds(span: timedelta) -> int:
    return int(span.total_seconds() * 1000)


def _common(snapshot: TaskSnapshot) -> dict[str, Any]:
    state, record = snapshot.state, snapshot.record
    return {
        "taskId": record.task_id,
        "statusMessage": state.message,
        "createdAt": _iso(record.created_at),
        "lastUpdatedAt": _iso(state.last_updated_at),
    }


def _legacy_task(snapshot: TaskSnapshot) -> dict[str, Any]:
    state = snapshot.state
    # 2025-11-25: a tool call whose result is an error is a failed task.
    status = TaskStatus.FAILED if state.tool_error else state.status
    return {
        **_common(snapshot),
        "status": status.value,
        "ttl": _milliseconds(snapshot.record.ttl),
        "pollInterval": _milliseconds(state.poll_interval),
    }


def _modern_task(snapshot: TaskSnapshot) -> dict[str, Any]:
    # 2026-07-28: a tool error is a completed task whose result says so; failed is for protocol faults.
    return {
        **_common(snapshot),
        "status": snapshot.state.status.value,
        "ttlMs": _milliseconds(snapshot.record.ttl),
        "pollIntervalMs": _milliseconds(snapshot.state.poll_interval),
    }
