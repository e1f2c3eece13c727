"""The JSON-RPC envelope of a POST to the MCP endpoint, checked before the SDK sees it.

The SDK answers a batch (a JSON array) and a message without `"jsonrpc": "2.0"` with -32602 and a
pydantic report, and an unknown `MCP-Protocol-Version` with a message about `params._meta`. The
specification's answers are -32600 Invalid Request, and 400 naming the versions this server speaks.
Anything that passes is handed on unchanged (the body is replayed as it came).
"""

from __future__ import annotations

import json
from typing import Any

from mcp_types import INVALID_REQUEST
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from imagegen.domain.errors import shown
from imagegen.web.responses import send_json

SUPPORTED_PROTOCOL_VERSIONS = (*MODERN_PROTOCOL_VERSIONS, *reversed(HANDSHAKE_PROTOCOL_VERSIONS))


class JsonRpcEnvelopeCheck:
    def __init__(self, app: ASGIApp, path: str, max_body_bytes: int) -> None:
        self._app = app
        self._path = path
        self._max_body = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or scope.get("path") != self._path:
            await self._app(scope, receive, send)
            return
        version = Headers(scope=scope).get("mcp-protocol-version")
        if version is not None and version not in SUPPORTED_PROTOCOL_VERSIONS:
            supported = ", ".join(SUPPORTED_PROTOCOL_VERSIONS)
            await _invalid_request(
                send,
                f"Unsupported MCP-Protocol-Version {shown(version)}. This server speaks: {supported}.",
                {"supported": list(SUPPORTED_PROTOCOL_VERSIONS), "requested": version[:100]},
            )
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            body.extend(message.get("body", b""))
            more = bool(message.get("more_body"))
            if len(body) > self._max_body:
                await send_json(
                    send, 413, {"error": "request_too_large", "error_description": "Body too large."}
                )
                return
        problem = _envelope_problem(bytes(body))
        if problem is not None:
            await _invalid_request(send, problem)
            return
        await self._app(scope, _replay(bytes(body), receive), send)


def _envelope_problem(body: bytes) -> str | None:
    try:
        message = json.loads(body)
    except ValueError:
        return None  # not JSON at all: the SDK answers -32700 Parse error
    if isinstance(message, list):
        return "Invalid Request: batches (JSON arrays) are not supported; send one JSON-RPC message per POST."
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        return 'Invalid Request: a message must be a JSON object with "jsonrpc": "2.0".'
    return None


async def _invalid_request(send: Send, message: str, data: Any = None) -> None:
    error: dict[str, Any] = {"code": INVALID_REQUEST, "message": message}
    if data is not None:
        error["data"] = data
    await send_json(send, 400, {"jsonrpc": "2.0", "id": None, "error": error})


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body as one message, then the connection's own messages (a disconnect, when it comes)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
