"""Plain JSON-RPC over HTTP to an MCP endpoint, for tests and benchmarks that time or script single calls
without a client session (stateless servers accept a tools/call without initialize)."""

from __future__ import annotations

import json
from typing import Any

import httpx

PROTOCOL_VERSION = "2025-11-25"


def mcp_headers(token: str) -> dict[str, str]:
    return {
        "authorization": f"Bearer {token}",
        "accept": "application/json, text/event-stream",
        "mcp-protocol-version": PROTOCOL_VERSION,
    }


def tool_call(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": name, "arguments": arguments},
    }


def tool_result(response: httpx.Response) -> dict[str, Any]:
    """The structured content of a successful tools/call answer, whether sent as JSON or as an SSE stream."""
    response.raise_for_status()
    if response.headers["content-type"].startswith("text/event-stream"):
        data = [line[5:] for line in response.text.splitlines() if line.startswith("data:")]
        messages = [json.loads(line) for line in data if line.strip()]
        body = next(message for message in messages if "result" in message or "error" in message)
    else:
        body = response.json()
    if "result" not in body or body["result"].get("isError"):
        raise AssertionError(f"the tool call failed: {json.dumps(body)[:500]}")
    return dict(body["result"]["structuredContent"])
