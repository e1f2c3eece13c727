"""`GET` and `DELETE` on the MCP endpoint: 405 Method Not Allowed, because the server is stateless.

Streamable HTTP lets a client open a standalone SSE stream with GET and end a session with DELETE. A
stateless server has neither, and the specification lets it say so with 405. Without this answer the SDK
opens an SSE stream that never sends anything: behind API Gateway that holds a Lambda for 30 s on every
connect and ends in a gateway error, and the TypeScript SDK (Claude Desktop, Cursor, VS Code, the
Inspector) opens exactly that stream right after `initialize`. The TypeScript and Python SDKs treat 405
as "no stream offered" and carry on.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from imagegen.web.responses import send_json

ALLOWED_METHODS = "POST"
MESSAGES = {
    "GET": "This server is stateless and offers no standalone SSE stream: send JSON-RPC requests with POST.",
    "DELETE": "This server is stateless and keeps no sessions to end: send JSON-RPC requests with POST.",
}


class StatelessMcpEndpoint:
    """Answer GET and DELETE on `path` with 405 and `Allow: POST`; everything else passes through."""

    def __init__(self, app: ASGIApp, path: str) -> None:
        self._app = app
        self._path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope.get("method")
        if scope["type"] == "http" and scope.get("path") == self._path and method in MESSAGES:
            await method_not_allowed(send, MESSAGES[str(method)])
            return
        await self._app(scope, receive, send)


async def method_not_allowed(send: Send, message: str) -> None:
    error = {"code": -32000, "message": f"Method Not Allowed. {message}"}
    await send_json(send, 405, {"jsonrpc": "2.0", "id": None, "error": error}, [("allow", ALLOWED_METHODS)])
