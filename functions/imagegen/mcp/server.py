"""The MCP server: its identity and instructions, and the tools and resources registered on it.

Tools are grouped by what they do (`tools.generate`, `tools.query`, `tools.manage`) and the resources
live in `resources`; each group registers itself. To add a tool, write it in the group it belongs to
(or a new group registered below), with its arguments from `arguments`, its output model in `schemas`
and its result shaped by `presenters`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.mcpserver import Context, MCPServer
from mcp_types import InputRequiredResult
from mcp_types import Tool as MCPTool
from pydantic import AnyUrl

from imagegen import __version__
from imagegen.domain.image_format import detect_image_format
from imagegen.mcp import resources
from imagegen.mcp.context import AppContext
from imagegen.mcp.presenters import IMAGE_URI_PREFIX
from imagegen.mcp.tools import generate, manage, query

SERVER_NAME = "imagegen"
INSTRUCTIONS = (
    "Generate images from text prompts with Cloudflare Workers AI. Typical flow: call "
    "generate_image_and_wait with a prompt; if it returns timed_out=true, call wait_for_completion with "
    "the job_id until done. Each completed job has a public image_url. Use list_models to choose a model "
    "and its parameters, list_generations to browse earlier images. Completed results link the image as "
    "the resource image://{job_id}."
)


class ImagegenMCPServer(MCPServer):
    """MCPServer whose image resources carry the image's real content type, and whose tool list is cached.

    The SDK gives every read of a resource template the template's one MIME type; our images are PNG,
    JPEG or WebP depending on the model, so the type is taken from the bytes. The tool list is fixed once
    `build_mcp_server` returns, so it is rendered once per process instead of on every tools/list.
    """

    _tools_cache: list[MCPTool] | None = None

    def add_tool(self, *args: Any, **kwargs: Any) -> None:
        self._tools_cache = None
        super().add_tool(*args, **kwargs)

    async def list_tools(self) -> list[MCPTool]:
        if self._tools_cache is None:
            self._tools_cache = await super().list_tools()
        return self._tools_cache

    async def read_resource(
        self, uri: AnyUrl | str, context: Context[Any, Any] | None = None
    ) -> Iterable[ReadResourceContents] | InputRequiredResult:
        results = await super().read_resource(uri, context)
        if isinstance(results, InputRequiredResult) or not str(uri).startswith(IMAGE_URI_PREFIX):
            return results
        return [_with_detected_type(item) for item in results]


def _with_detected_type(item: ReadResourceContents) -> ReadResourceContents:
    fmt = detect_image_format(item.content) if isinstance(item.content, bytes) else None
    return replace(item, mime_type=fmt.content_type) if fmt else item


def build_mcp_server(app: AppContext) -> MCPServer:
    server = ImagegenMCPServer(
        SERVER_NAME,
        title="Image Generator",
        version=__version__,
        instructions=INSTRUCTIONS,
        website_url="https://github.com/imagegen-mcp/imagegen",
    )
    history = app.history_service()
    for group in (generate, query, manage, resources):
        group.register(server, app, history)
    return server
