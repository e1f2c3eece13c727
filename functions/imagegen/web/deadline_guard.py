"""Answer every request before its deadline, whatever the application is doing.

Behind API Gateway an answer that comes after 30 s reaches nobody: the gateway has already sent 503 and
the function keeps running (and billing) until its own timeout. Tools derive their waits from the same
deadline, so this guard only fires when something else overruns; it then answers with a JSON-RPC error
the client can act on, and the invocation ends in time.
"""

from __future__ import annotations

import asyncio
import json
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from imagegen.domain.deadline import Deadline
from imagegen.mcp.context import current_deadline
from imagegen.web.responses import send_json

logger = logging.getLogger(__name__)

OUT_OF_TIME_MESSAGE = (
    "The server ran out of time for this request (the gateway allows 30 s). Nothing was lost: call again; "
    "wait tools return earlier with timed_out=true."
)


class DeadlineGuard:
    def __init__(self, app: ASGIApp, deadline: Deadline) -> None:
        self._app = app
        self._deadline = deadline

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = False
        request_body = bytearray()

        async def tracked_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                request_body.extend(message.get("body", b""))
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        reset = current_deadline.set(self._deadline)
        try:
            async with asyncio.timeout(self._deadline.remaining()):
                await self._app(scope, tracked_receive, tracked_send)
        except TimeoutError:
            logger.error("request overran its deadline", extra={"path": scope.get("path")})
            if not started:
                await _out_of_time(send, _request_id(bytes(request_body)))
        finally:
            current_deadline.reset(reset)


def _request_id(body: bytes) -> object:
    try:
        message = json.loads(body)
    except ValueError:
        return None
    return message.get("id") if isinstance(message, dict) else None


async def _out_of_time(send: Send, request_id: object) -> None:
    error = {"code": -32000, "message": OUT_OF_TIME_MESSAGE}
    await send_json(send, 503, {"jsonrpc": "2.0", "id": request_id, "error": error}, [("retry-after", "1")])
