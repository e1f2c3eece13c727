"""Reading tool results the way a model-facing client does: structured content, or a failure."""

from __future__ import annotations

from typing import Any

from mcp_types import CallToolResult, TextContent


class ToolCallFailed(RuntimeError):
    """A tool answered `isError: true` or without structured content."""


def structured(result: CallToolResult) -> dict[str, Any]:
    if result.is_error or result.structured_content is None:
        text = " ".join(block.text for block in result.content if isinstance(block, TextContent))
        raise ToolCallFailed(text or "tool returned no structured content")
    content: dict[str, Any] = result.structured_content
    return content
