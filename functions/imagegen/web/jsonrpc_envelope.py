"""The JSON-RPC envelope of a POST to the MCP endpoint, checked before the SDK sees it.

The SDK answers a batch (a JSON array) and a message without `"jsonrpc": "2.0"` with -32602 and a
pydantic report, and an unknown `MCP-Protocol-Version` with a message about `params._meta`. The
specification's answers are -32600 Invalid Request, and 400 naming the versions this server speaks.

On 2026-07-28 the SDK checks the `Mcp-Name` routing header of the core methods; the Tasks extension
requires it on `tasks/get`, `tasks/update` and `tasks/cancel` too, naming the task, so that routing
intermediaries can act on it: a missing or different one is 400 with -32020 HeaderMismatch.
Anything that passes is handed on unchanged (the body is replayed as it came).
"""

from __future__ import annotations

import json
from typing import Any

from mcp_types import INVALID_REQUEST, PROTOCOL_VERSION_META_KEY, UnsupportedProtocolVersionErrorData
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from imagegen.domain.errors import shown
from imagegen.web.responses import send_json

SUPPORTED_PROTOCOL_VERSIONS = (*MODERN_PROTOCOL_VERSIONS, *reversed(HANDSHAKE_PROTOCOL_VERSIONS))
HEADER_MISMATCH = -32020  # SEP-2243
UNSUPPORTED_PROTOCOL_VERSION = -32022  # 2026-07-28
TASK_ROUTED_METHODS = frozenset({"tasks/get", "tasks/update", "tasks/cancel"})


class JsonRpcEnvelopeCheck:
    def __init__(self, app: ASGIApp, path: str, max_body_bytes: int) -> None:
        self._app = app
        self._path = path
        self._max_body = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or scope.get("path") != self._path:
            await self._app(scope, receive, send)
            return
        body = await self._body(receive, send)
        if body is None:
            return
        try:
            document: Any = json.loads(body)
        except ValueError:
            document = None  # not JSON at all: the SDK answers -32700 Parse error
        # Every error answers the request's own id where there is one.
        request_id = document.get("id") if isinstance(document, dict) else None
        headers = Headers(scope=scope)
        version = headers.get("mcp-protocol-version")
        if version is not None and version not in SUPPORTED_PROTOCOL_VERSIONS:
            await _unsupported_version(send, request_id, version, modern=_is_modern_request(document))
            return
        problem = _envelope_problem(document) if document is not None else None
        if problem is not None:
            await _error(send, 400, request_id, INVALID_REQUEST, problem)
            return
        if version in MODERN_PROTOCOL_VERSIONS and isinstance(document, dict):
            mismatch = _task_routing_mismatch(document, headers.get("mcp-name"))
            if mismatch is not None:
                await _error(send, 400, request_id, HEADER_MISMATCH, mismatch)
                return
        await self._app(scope, _replay(body, receive), send)

    async def _body(self, receive: Receive, send: Send) -> bytes | None:
        """The whole request body, or None when it was too large (and 413 has been sent)."""
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
                return None
        return bytes(body)


def _is_modern_request(document: Any) -> bool:
    """A 2026-07-28 request names its protocol version in `_meta`; a handshake-era one does not."""
    params = document.get("params") if isinstance(document, dict) else None
    meta = params.get("_meta") if isinstance(params, dict) else None
    return isinstance(meta, dict) and PROTOCOL_VERSION_META_KEY in meta


async def _unsupported_version(send: Send, request_id: Any, version: str, *, modern: bool) -> None:
    # A 2026-07-28 client gets the versions it can use without a handshake and that era's error code;
    # a handshake-era client gets every version this server speaks.
    supported = list(MODERN_PROTOCOL_VERSIONS) if modern else list(SUPPORTED_PROTOCOL_VERSIONS)
    await _error(
        send,
        400,
        request_id,
        UNSUPPORTED_PROTOCOL_VERSION if modern else INVALID_REQUEST,
        f"Unsupported MCP-Protocol-Version {shown(version)}. This server speaks: {', '.join(supported)}.",
        UnsupportedProtocolVersionErrorData(supported=supported, requested=version[:100]).model_dump(),
    )


async def _error(send: Send, status: int, request_id: Any, code: int, message: str, data: Any = None) -> None:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    await send_json(send, status, {"jsonrpc": "2.0", "id": request_id, "error": error})


def _task_routing_mismatch(message: dict[str, Any], name: str | None) -> str | None:
    if message.get("method") not in TASK_ROUTED_METHODS:
        return None
    params = message.get("params")
    task_id = params.get("taskId") if isinstance(params, dict) else None
    if not isinstance(task_id, str) or name == task_id:
        return None  # a missing taskId is the handler's invalid-params answer
    if name is None:
        return f"Header mismatch: {message['method']} requires an Mcp-Name header naming the task ({shown(task_id)})."
    return f"Header mismatch: Mcp-Name {shown(name)} does not match params.taskId {shown(task_id)}."


def _envelope_problem(message: Any) -> str | None:
    if isinstance(message, list):
        return "Invalid Request: batches (JSON arrays) are not supported; send one JSON-RPC message per POST."
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        return 'Invalid Request: a message must be a JSON object with "jsonrpc": "2.0".'
    return None


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
