"""Refuse browser requests from origins that are not allowed, on the protected paths.

Behind API Gateway the MCP SDK's DNS-rebinding protection is off (see `web.lambda_app`), and this is the
half of it that still protects something there: a web page on another origin cannot call the endpoint
from a user's browser unless its origin was configured. Requests without an Origin header (desktop and
command-line clients) pass.
"""

from __future__ import annotations

from collections.abc import Collection

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from imagegen.web.responses import send_json


class OriginCheck:
    def __init__(self, app: ASGIApp, allowed_origins: Collection[str], protected_path: str) -> None:
        self._app = app
        self._allowed = {origin.rstrip("/").lower() for origin in allowed_origins}
        self._path = protected_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path") == self._path:
            origin = Headers(scope=scope).get("origin")
            if origin is not None and origin.rstrip("/").lower() not in self._allowed:
                await _forbidden(send, origin)
                return
        await self._app(scope, receive, send)


async def _forbidden(send: Send, origin: str) -> None:
    description = f"Origin {origin[:200]} is not allowed; the operator can add it to allowed_origins."
    await send_json(send, 403, {"error": "origin_not_allowed", "error_description": description})
