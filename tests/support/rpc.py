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


MODERN_VERSION = "2026-07-28"
TASKS_EXTENSION = "io.modelcontextprotocol/tasks"


def message(response: httpx.Response) -> dict[str, Any]:
    """The JSON-RPC message a POST answered with, whether sent as JSON or as the last event of a stream."""
    if response.headers["content-type"].startswith("text/event-stream"):
        data = [line[5:].strip() for line in response.text.splitlines() if line.startswith("data:")]
        return dict(json.loads(data[-1]))
    return dict(response.json())


def post_rpc(
    url: str,
    token: str,
    method: str,
    params: dict[str, Any] | None = None,
    *,
    version: str = PROTOCOL_VERSION,
    extensions: dict[str, Any] | None = None,
    timeout: float = 60,
) -> dict[str, Any]:
    """One stateless JSON-RPC request as a client of `version` sends it; the answer message.

    2026-07-28 requests carry their protocol version and capabilities in `_meta` and name their method
    (and the tool or task they address) in headers.
    """
    body_params = dict(params or {})
    headers = {**mcp_headers(token), "mcp-protocol-version": version}
    if version == MODERN_VERSION:
        body_params["_meta"] = {
            "io.modelcontextprotocol/protocolVersion": version,
            "io.modelcontextprotocol/clientCapabilities": {"extensions": extensions} if extensions else {},
        }
        headers["mcp-method"] = method
        name = body_params.get("name") or body_params.get("taskId")
        if name:
            headers["mcp-name"] = str(name)
    response = httpx.post(
        url,
        json={"jsonrpc": "2.0", "id": 1, "method": method, "params": body_params},
        headers=headers,
        timeout=timeout,
    )
    return message(response)
