"""A client side of the 2026-07-28 Tasks extension for the Python `mcp` client: it declares the extension,
claims `resultType: "task"` answers to `tools/call`, and resolves each by polling `tasks/get` at the
interval the server suggests, so `call_tool` returns the tool's final result as if it had waited.

The SDK provides the mechanism (`ClientExtension`, `ResultClaim`); the extension's client is ours, kept
with the tests, because the SDK ships none yet.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Literal

from mcp.client.extension import ClaimContext, ClientExtension, ResultClaim
from mcp_types import CallToolResult, Request, RequestParams, Result
from pydantic import ConfigDict, Field

TASKS_EXTENSION = "io.modelcontextprotocol/tasks"
TERMINAL = ("completed", "failed", "cancelled")


class TaskHandle(Result):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    result_type: Literal["task"] = Field(default="task", alias="resultType")
    task_id: str = Field(alias="taskId")
    status: str
    poll_interval_ms: int | None = Field(default=None, alias="pollIntervalMs")


class TaskIdParams(RequestParams):
    model_config = ConfigDict(populate_by_name=True)

    task_id: str = Field(alias="taskId")


class GetTask(Request[TaskIdParams, Literal["tasks/get"]]):
    method: Literal["tasks/get"] = "tasks/get"
    params: TaskIdParams
    name_param = "taskId"  # SEP-2663: tasks/* name their task in the Mcp-Name header


class DetailedTask(Result):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    task_id: str = Field(alias="taskId")
    status: str
    status_message: str | None = Field(default=None, alias="statusMessage")
    poll_interval_ms: int | None = Field(default=None, alias="pollIntervalMs")
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


@dataclass
class TasksClientExtension(ClientExtension):
    """Records every task it resolved (handle and final state) for the caller to inspect."""

    identifier = TASKS_EXTENSION
    handles: list[TaskHandle] = field(default_factory=list)
    finished: list[DetailedTask] = field(default_factory=list)
    polls: int = 0

    def claims(self) -> list[ResultClaim[Any]]:
        return [ResultClaim(result_type="task", model=TaskHandle, resolve=self._resolve)]

    async def _resolve(self, handle: TaskHandle, ctx: ClaimContext) -> CallToolResult:
        self.handles.append(handle)
        interval = (handle.poll_interval_ms or 1000) / 1000
        while True:
            task = await ctx.session.send_request(
                GetTask(params=TaskIdParams(task_id=handle.task_id)), DetailedTask
            )
            self.polls += 1
            if task.status in TERMINAL:
                break
            await asyncio.sleep((task.poll_interval_ms or interval * 1000) / 1000)
        self.finished.append(task)
        if task.status != "completed" or task.result is None:
            raise RuntimeError(
                f"task {task.task_id} ended {task.status}: {task.error or task.status_message}"
            )
        return CallToolResult.model_validate(task.result)
