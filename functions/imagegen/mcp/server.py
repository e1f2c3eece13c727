"""The MCP server: its identity and instructions, the tools and resources registered on it, and the
protocol answers the SDK would otherwise give differently from the specification.

Tools are grouped by what they do (`tools.generate`, `tools.query`, `tools.manage`) and the resources
live in `resources`; each group registers itself. To add a tool, write it in the group it belongs to
(or a new group registered below), with its arguments from `arguments`, its output model in `schemas`
and its result shaped by `presenters`.

Protocol answers (2025-11-25, and the same on 2026-07-28):
- an unknown tool is a JSON-RPC error -32602, not a tool result;
- unknown arguments, wrong types and non-finite numbers are tool errors in plain words;
- an invalid `tools/list` or `resources/list` cursor is -32602 (the lists have one page, so any cursor
  is invalid);
- only what is implemented is declared: no prompts capability (and `prompts/*` is -32601), no resource
  subscriptions, no list-changed notifications.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.shared.exceptions import MCPError
from mcp_types import (
    INVALID_PARAMS,
    METHOD_NOT_FOUND,
    CallToolResult,
    InputRequiredResult,
    ListResourcesResult,
    ListToolsResult,
    PaginatedRequestParams,
    ToolExecution,
)
from mcp_types import ResourceTemplate as MCPResourceTemplate
from mcp_types import Tool as MCPTool
from pydantic import AnyUrl, BaseModel, ValidationError

from imagegen import __version__
from imagegen.domain.errors import shown
from imagegen.domain.image_format import detect_image_format
from imagegen.mcp import resources
from imagegen.mcp.argument_checks import non_finite_message, unknown_arguments_message, validation_message
from imagegen.mcp.context import AppContext
from imagegen.mcp.input_schemas import argument_names, tidy_input_schema
from imagegen.mcp.presenters import IMAGE_URI_PREFIX
from imagegen.mcp.tasks import TASK_TOOLS, TaskProtocol
from imagegen.mcp.tools import generate, manage, query

SERVER_NAME = "imagegen"
INSTRUCTIONS = (
    "Generate images from text prompts with Cloudflare Workers AI. Typical flow: call "
    "generate_image_and_wait with a prompt; if it returns timed_out=true, call wait_for_completion with "
    "the job_id until done. Each completed job has a public image_url. Use list_models to choose a model "
    "and its parameters, list_generations to browse earlier images. Completed results link the image as "
    "the resource image://{job_id}."
)
UNIMPLEMENTED_METHODS = ("prompts/list", "prompts/get", "resources/subscribe", "resources/unsubscribe")


async def declare_only_what_is_implemented(
    ctx: ServerRequestContext[Any, Any], call_next: CallNext
) -> HandlerResult:
    """The SDK always serves and declares prompts; this server has none."""
    if ctx.method in UNIMPLEMENTED_METHODS and ctx.request_id is not None:
        raise MCPError(code=METHOD_NOT_FOUND, message=f"Method not found: {ctx.method}", data=ctx.method)
    result = await call_next(ctx)
    if ctx.method in ("initialize", "server/discover"):
        document = (
            result.model_dump(mode="json", by_alias=True, exclude_none=True)
            if isinstance(result, BaseModel)
            else result
        )
        if isinstance(document, dict) and isinstance(document.get("capabilities"), dict):
            document["capabilities"].pop("prompts", None)
            return document
    return result


class ImagegenMCPServer(MCPServer):
    """MCPServer with the protocol answers above, image resources that carry the image's real content
    type, and a tool list rendered once per process (it is fixed once `build_mcp_server` returns)."""

    _tools_cache: list[MCPTool] | None = None

    def add_tool(self, *args: Any, **kwargs: Any) -> None:
        self._tools_cache = None
        super().add_tool(*args, **kwargs)

    def constrain_tool_schemas(self, rules: Mapping[str, Mapping[str, Any]]) -> None:
        """Tidy every tool's input schema (see `input_schemas`), adding each tool's extra rules."""
        for tool in self._tool_manager.list_tools():
            tool.parameters = tidy_input_schema(tool.parameters, rules.get(tool.name))
        self._tools_cache = None

    async def list_tools(self) -> list[MCPTool]:
        if self._tools_cache is None:
            tools = await super().list_tools()
            for tool in tools:
                if tool.name in TASK_TOOLS:
                    # 2025-11-25 only: the 2026-07-28 wire has no such field, and its sieve drops it.
                    tool.execution = ToolExecution(task_support="optional")
            self._tools_cache = tools
        return self._tools_cache

    def tool_names(self) -> list[str]:
        return [tool.name for tool in self._tool_manager.list_tools()]

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        tool = self._tool_manager.get_tool(name)
        if tool is None:
            known = ", ".join(item.name for item in self._tool_manager.list_tools())
            raise MCPError(code=INVALID_PARAMS, message=f"Unknown tool {shown(name)}. Tools: {known}.")
        problem = unknown_arguments_message(name, arguments, argument_names(tool.parameters))
        problem = problem or non_finite_message(arguments)
        if problem:
            raise ToolError(problem)
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            if isinstance(exc.__cause__, ValidationError):
                raise ToolError(validation_message(name, exc.__cause__)) from exc.__cause__
            raise

    async def _handle_list_tools(
        self, ctx: ServerRequestContext[Any, Any], params: PaginatedRequestParams | None
    ) -> ListToolsResult:
        _refuse_cursor(params)
        return await super()._handle_list_tools(ctx, params)

    async def _handle_list_resources(
        self, ctx: ServerRequestContext[Any, Any], params: PaginatedRequestParams | None
    ) -> ListResourcesResult:
        _refuse_cursor(params)
        return await super()._handle_list_resources(ctx, params)

    async def list_resource_templates(self) -> list[MCPResourceTemplate]:
        # The SDK labels a template without a type text/plain; the image template's resources are PNG,
        # JPEG or WebP, and a template declares a type only when all its resources share one.
        return [
            template.model_copy(update={"mime_type": None})
            if template.uri_template.startswith(IMAGE_URI_PREFIX)
            else template
            for template in await super().list_resource_templates()
        ]

    async def read_resource(
        self, uri: AnyUrl | str, context: Context[Any, Any] | None = None
    ) -> Iterable[ReadResourceContents] | InputRequiredResult:
        results = await super().read_resource(uri, context)
        if isinstance(results, InputRequiredResult) or not str(uri).startswith(IMAGE_URI_PREFIX):
            return results
        return [_with_detected_type(item) for item in results]


def _refuse_cursor(params: PaginatedRequestParams | None) -> None:
    if params is not None and params.cursor is not None:
        raise MCPError(
            code=INVALID_PARAMS,
            message=f"Invalid cursor {shown(params.cursor)}: this list has one page; request it without a cursor.",
        )


def _with_detected_type(item: ReadResourceContents) -> ReadResourceContents:
    fmt = detect_image_format(item.content) if isinstance(item.content, bytes) else None
    return replace(item, mime_type=fmt.content_type) if fmt else item


def build_mcp_server(app: AppContext) -> MCPServer:
    history = app.history_service()
    tasks = TaskProtocol(app, history, lambda: server.tool_names())
    server = ImagegenMCPServer(
        SERVER_NAME,
        title="Image Generator",
        version=__version__,
        instructions=INSTRUCTIONS,
        website_url="https://github.com/imagegen-mcp/imagegen",
        # No resource subscriptions or list-changed notifications: a stateless server cannot keep them.
        subscriptions=False,
        extensions=[tasks.extension()],
        middleware=[declare_only_what_is_implemented, tasks.middleware],
    )
    rules: dict[str, Any] = {}
    for group in (generate, query, manage):
        rules.update(group.register(server, app, history))
    resources.register(server, app, history)
    server.constrain_tool_schemas(rules)
    return server
