"""API Gateway (HTTP API, `$default` stage, Lambda proxy integrations with payload format 2.0) as ASGI.

It answers the way API Gateway answers, including when things go wrong:
- a Host that is not one of the API's names: `403 {"message":"Forbidden"}` (API Gateway routes by name);
- no route for the method and path: `404 {"message":"Not Found"}` (route paths may hold variables:
  `{name}` is one path segment, `{name+}` the rest of the path; an exact path wins over a variable);
- a body over 10 MB: `413 {"message":"Request Entity Too Large"}`, and so does an event over Lambda's
  6 MB invocation limit;
- no answer within the 30 s integration timeout: `503 {"message":"Service Unavailable"}`, while the
  invocation runs on to the function's own timeout, as on AWS;
- a function error, a timed-out or throttled invocation, or a response that is not a valid payload 2.0
  answer: `500 {"message":"Internal Server Error"}`.
Every request is a separate invocation on the function's pool of execution environments, so requests
never wait for each other.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.utils import formatdate
from typing import Protocol

from starlette.types import Receive, Scope, Send

from imagegen.emulator.events import http_api_event
from imagegen.emulator.lambda_service import InvocationResult
from imagegen.web.gateway_limits import API_GATEWAY_MAX_BODY_BYTES, API_GATEWAY_TIMEOUT_SECONDS

logger = logging.getLogger(__name__)

INTEGRATION_TIMEOUT_SECONDS = API_GATEWAY_TIMEOUT_SECONDS
MAX_BODY_BYTES = API_GATEWAY_MAX_BODY_BYTES


class Invoker(Protocol):
    """Something that runs a function synchronously: `LambdaFunction`, or a handler in this process."""

    def invoke(self, payload: bytes) -> InvocationResult: ...


@dataclass(frozen=True)
class CorsConfig:
    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...] = ("GET", "POST", "DELETE", "OPTIONS")
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age_seconds: int = 3600


class HttpApiGateway:
    def __init__(
        self,
        routes: Mapping[str, Sequence[str]],
        function: Invoker,
        *,
        domain_names: Sequence[str],
        integration_timeout: float = INTEGRATION_TIMEOUT_SECONDS,
        cors: CorsConfig | None = None,
        max_concurrent_requests: int = 256,
        on_shutdown: Callable[[], None] | None = None,
    ) -> None:
        self._routes = [
            (_route_pattern(path), {method.upper() for method in methods})
            for path, methods in sorted(routes.items(), key=lambda route: "{" in route[0])
        ]
        self._function = function
        self._domains = {name.lower() for name in domain_names}
        self.primary_domain = domain_names[0]
        self.integration_timeout = integration_timeout
        self._cors = cors
        # Invocations block their thread for their whole duration, and go on after a gateway timeout.
        self._executor = ThreadPoolExecutor(max_concurrent_requests, thread_name_prefix="apigw-invoke")
        self._on_shutdown = on_shutdown

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        received_at = time.time()
        request_id = str(uuid.uuid4())
        method = str(scope["method"]).upper()
        path = str(scope["path"])
        headers = [(key.decode("latin-1"), value.decode("latin-1")) for key, value in scope["headers"]]
        host = next((value for key, value in headers if key.lower() == "host"), "")
        origin = next((value for key, value in headers if key.lower() == "origin"), None)
        answer = _Answer(send, request_id, self._cors_headers(origin))
        if host.lower() not in self._domains:
            await answer.message(403, "Forbidden")
            return
        if method == "OPTIONS" and self._cors is not None and origin is not None:
            await answer.preflight(self._preflight_headers(origin))
            return
        if method not in self._methods(path):
            await answer.message(404, "Not Found")
            return
        body = await _read_body(receive)
        if body is None:
            await answer.message(413, "Request Entity Too Large")
            return
        event = http_api_event(
            method=method,
            path=path,
            headers=headers,
            body=body,
            query_string=scope.get("query_string", b"").decode("latin-1"),
            domain_name=host,
            source_ip=(scope.get("client") or ("127.0.0.1", 0))[0],
            received_at=received_at,
        )
        event["requestContext"]["requestId"] = request_id
        payload = json.dumps(event).encode()
        loop = asyncio.get_running_loop()
        invocation = loop.run_in_executor(self._executor, self._function.invoke, payload)
        remaining = self.integration_timeout - (time.time() - received_at)
        try:
            result = await asyncio.wait_for(asyncio.shield(invocation), max(0.0, remaining))
        except TimeoutError:
            logger.warning(
                "integration timed out after %.0f s: %s %s", self.integration_timeout, method, path
            )
            await answer.message(503, "Service Unavailable")
            return
        if result.outcome.error_type == "RequestEntityTooLargeException":
            await answer.message(413, "Request Entity Too Large")
            return
        if result.failed:
            await answer.message(500, "Internal Server Error")
            return
        response = _parse_response(result.outcome.body)
        if response is None:
            logger.error("the function's answer is not a valid payload 2.0 response")
            await answer.message(500, "Internal Server Error")
            return
        await answer.send(*response)

    def _methods(self, path: str) -> set[str]:
        return next((methods for pattern, methods in self._routes if pattern.fullmatch(path)), set())

    def _cors_headers(self, origin: str | None) -> list[tuple[str, str]]:
        cors = self._cors
        if cors is None or origin is None or origin not in cors.allow_origins:
            return []
        headers = [("access-control-allow-origin", origin), ("vary", "origin")]
        if cors.expose_headers:
            headers.append(("access-control-expose-headers", ",".join(cors.expose_headers)))
        return headers

    def _preflight_headers(self, origin: str) -> list[tuple[str, str]]:
        cors = self._cors
        if cors is None or origin not in cors.allow_origins:
            return []
        return [
            ("access-control-allow-methods", ",".join(cors.allow_methods)),
            ("access-control-allow-headers", ",".join(cors.allow_headers)),
            ("access-control-max-age", str(cors.max_age_seconds)),
        ]

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._on_shutdown is not None:
                    self._on_shutdown()
                self._executor.shutdown(wait=False, cancel_futures=True)
                await send({"type": "lifespan.shutdown.complete"})
                return


def _route_pattern(path: str) -> re.Pattern[str]:
    pieces = re.split(r"(\{[^}]+\})", path)
    return re.compile(
        "".join(
            (".+" if piece.endswith("+}") else "[^/]+") if piece.startswith("{") else re.escape(piece)
            for piece in pieces
        )
    )


async def _read_body(receive: Receive) -> bytes | None:
    body = bytearray()
    while True:
        message = await receive()
        body.extend(message.get("body", b""))
        if len(body) > MAX_BODY_BYTES:
            return None
        if not message.get("more_body"):
            return bytes(body)


ResponseParts = tuple[int, list[tuple[str, str]], bytes]


def _parse_response(raw: bytes) -> ResponseParts | None:
    """Read a payload 2.0 answer. A JSON answer without statusCode is a 200 with that JSON as the body."""
    try:
        document = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(document, dict) or "statusCode" not in document:
        return 200, [("content-type", "application/json")], raw
    status = document.get("statusCode")
    if not isinstance(status, int) or not 100 <= status <= 599:
        return None
    headers = [(str(name).lower(), str(value)) for name, value in (document.get("headers") or {}).items()]
    headers += [("set-cookie", str(cookie)) for cookie in document.get("cookies") or []]
    body = document.get("body") or ""
    if not isinstance(body, str):
        return None
    try:
        data = base64.b64decode(body) if document.get("isBase64Encoded") else body.encode()
    except ValueError:
        return None
    return status, headers, data


class _Answer:
    """What API Gateway adds to every answer: its request id, a date, CORS headers for allowed origins."""

    def __init__(self, send: Send, request_id: str, cors: Iterable[tuple[str, str]]) -> None:
        self._send = send
        self._request_id = request_id
        self._cors = list(cors)

    async def message(self, status: int, message: str) -> None:
        body = json.dumps({"message": message}, separators=(",", ":")).encode()
        await self.send(status, [("content-type", "application/json")], body)

    async def preflight(self, headers: list[tuple[str, str]]) -> None:
        await self.send(204, headers, b"")

    async def send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        skip = {"content-length", "date", "apigw-requestid"}
        raw = [
            (name.encode("latin-1"), value.encode("latin-1")) for name, value in headers if name not in skip
        ]
        raw += [(name.encode("latin-1"), value.encode("latin-1")) for name, value in self._cors]
        raw += [
            (b"apigw-requestid", self._request_id.encode()),
            (b"date", formatdate(usegmt=True).encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        await self._send({"type": "http.response.start", "status": status, "headers": raw})
        await self._send({"type": "http.response.body", "body": body})
