"""The MCP API behind API Gateway: one ASGI app per invocation around one server per container.

mcp 2.3.0 lets a StreamableHTTPSessionManager run once, and Mangum runs the ASGI lifespan on every
invocation, so a module-level app fails on the second warm request. The MCP server (tools, schemas) is
built once per container; each invocation builds a fresh transport app around it, which costs about a
millisecond. Stateless JSON responses suit Lambda: API Gateway buffers the response anyway.

Every request is answered before its deadline: the earlier of API Gateway's 30 s (counted from when the
gateway received the request, so a cold start uses part of it) and the function's own timeout, less a
margin for the way back. Waits and thumbnails take their budgets from that deadline (`DeadlineGuard`).

No Host check here. The MCP SDK's DNS-rebinding protection compares the Host header with allowed names,
which protects a server on a private address that answers to any name. API Gateway answers only for its
own execute-api name and the custom domains mapped to it (anything else gets 403 before the function
runs), so a check here could only compare API Gateway's own routing decision with itself. The Origin half
of that protection still applies (`OriginCheck`): browser pages from other origins are refused unless the
operator allowed them.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any, cast

from mangum import Mangum
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

from imagegen.domain.deadline import Deadline
from imagegen.mcp.context import AppContext
from imagegen.services.oauth import OAuthService
from imagegen.web.auth import BearerAuthMiddleware, KeyRing, ResourceServer
from imagegen.web.deadline_guard import DeadlineGuard
from imagegen.web.discovery import discovery_response
from imagegen.web.favicon import favicon_response
from imagegen.web.gateway_limits import (
    API_GATEWAY_TIMEOUT_SECONDS,
    MAX_INLINE_RESPONSE_BYTES,
    RESPONSE_MARGIN_SECONDS,
)
from imagegen.web.jsonrpc_envelope import JsonRpcEnvelopeCheck
from imagegen.web.oauth.routes import oauth_routes
from imagegen.web.oauth.urls import OAuthUrls
from imagegen.web.openai_images import openai_images_route
from imagegen.web.origin import OriginCheck
from imagegen.web.routes import (
    DISCOVERY_PATH,
    FAVICON_PATH,
    GRANTS_PATH,
    HEALTH_PATHS,
    MCP_PATH,
    OPENAI_IMAGES_PATH,
)
from imagegen.web.stateless import StatelessMcpEndpoint

MAX_REQUEST_BODY_BYTES = 1_000_000
# The SDK's Host/Origin checks are replaced by OriginCheck (see the module docstring).
NO_HOST_CHECK = TransportSecuritySettings(enable_dns_rebinding_protection=False)


def request_deadline(event: Mapping[str, Any], context: Any, *, now: float | None = None) -> Deadline:
    """When this invocation must have answered: before API Gateway gives up and before Lambda does."""
    wall_now = time.time() if now is None else now
    remaining = [API_GATEWAY_TIMEOUT_SECONDS]
    received_ms = _received_epoch_ms(event)
    if received_ms is not None:
        # The gateway's clock started when it received the request, cold start included.
        remaining.append(received_ms / 1000 + API_GATEWAY_TIMEOUT_SECONDS - wall_now)
    get_remaining = getattr(context, "get_remaining_time_in_millis", None)
    if callable(get_remaining):
        remaining.append(float(get_remaining()) / 1000)
    return Deadline.within(max(0.0, min(remaining) - RESPONSE_MARGIN_SECONDS))


def _received_epoch_ms(event: Mapping[str, Any]) -> float | None:
    context = event.get("requestContext") or {}
    value = context.get("timeEpoch") or context.get("requestTimeEpoch")  # payload 2.0 / REST API
    return float(value) if isinstance(value, int | float) else None


def own_origins(domain_names: Sequence[str], allowed_origins: Sequence[str]) -> list[str]:
    """Browser origins allowed to call /mcp: the API's own names (https) and the configured ones."""
    return [*(f"https://{name}" for name in domain_names if name), *allowed_origins]


def base_path(event: Mapping[str, Any]) -> str:
    """HTTP APIs put a named stage in the raw path (REST APIs do not): strip it before routing."""
    context = event.get("requestContext") or {}
    stage = context.get("stage")
    raw_path = str(event.get("rawPath") or "")
    if event.get("version") == "2.0" and stage and stage != "$default" and raw_path.startswith(f"/{stage}/"):
        return f"/{stage}"
    return "/"


class _PublicPages:
    """The unauthenticated pages: GET /healthz and /health (liveness, version, provider), GET / and the icon."""

    def __init__(self, app: ASGIApp, server: MCPServer, provider_name: str, public_url: str) -> None:
        self._app = app
        self._server = server
        self._public_url = public_url
        self._health = JSONResponse(
            {"status": "ok", "version": server.version, "provider": provider_name},
            headers={"cache-control": "no-store"},
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") == "GET":
            path = scope.get("path")
            if path in HEALTH_PATHS:
                await self._health(scope, receive, send)
                return
            if path == FAVICON_PATH:
                await favicon_response()(scope, receive, send)
                return
            if path == DISCOVERY_PATH:
                page = await discovery_response(
                    Request(scope, receive),
                    self._server,
                    base_url=self._public_url,
                    mcp_path=MCP_PATH,
                    sse_path=None,
                )
                await page(scope, receive, send)
                return
        await self._app(scope, receive, send)


class _RoutesFirst:
    """HTTP requests that match one of `routes` go to it; everything else, lifespan events included (a
    Starlette router would keep those from the session manager), goes on to `app`."""

    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute]) -> None:
        self._app = app
        self._routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for route in self._routes:
                match, child = route.matches(scope)
                if match is not Match.NONE:
                    scope.update(child)
                    await route.handle(scope, receive, send)
                    return
        await self._app(scope, receive, send)


def build_invocation_app(
    server: MCPServer,
    keyring: KeyRing,
    *,
    context: AppContext,
    oauth: OAuthService,
    provider_name: str,
    public_url: str,
    allowed_origins: Sequence[str],
    deadline: Deadline,
) -> ASGIApp:
    streamable = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        stateless_http=True,
        json_response=True,
        transport_security=NO_HOST_CHECK,
        max_request_body_size=MAX_REQUEST_BODY_BYTES,
    )
    urls = OAuthUrls(public_url)
    # Outside in: the deadline, the public pages, the bearer check (of /mcp and the grant endpoints), the
    # OAuth routes, the origin check, GET/DELETE answered 405, the JSON-RPC envelope check, and the SDK.
    # Lifespan events pass through every layer to the session manager.
    app: ASGIApp = JsonRpcEnvelopeCheck(streamable, MCP_PATH, MAX_REQUEST_BODY_BYTES)
    app = StatelessMcpEndpoint(app, MCP_PATH)
    app = OriginCheck(app, allowed_origins, MCP_PATH)
    images_api = openai_images_route(context, max_response_bytes=MAX_INLINE_RESPONSE_BYTES)
    app = _RoutesFirst(app, [*oauth_routes(oauth, keyring, urls, allowed_origins), images_api])
    app = BearerAuthMiddleware(
        app,
        keyring,
        (MCP_PATH, GRANTS_PATH, OPENAI_IMAGES_PATH),
        ResourceServer(oauth, urls.resource_metadata),
    )
    app = _PublicPages(app, server, provider_name, public_url)
    return DeadlineGuard(app, deadline)


def invoke(
    server: MCPServer,
    keyring: KeyRing,
    event: dict[str, Any],
    context: Any,
    *,
    app_context: AppContext,
    oauth: OAuthService,
    provider_name: str,
    public_url: str,
    allowed_origins: Sequence[str],
) -> dict[str, Any]:
    app = build_invocation_app(
        server,
        keyring,
        context=app_context,
        oauth=oauth,
        provider_name=provider_name,
        public_url=public_url,
        allowed_origins=allowed_origins,
        deadline=request_deadline(event, context),
    )
    # Mangum's ASGI protocol wants a Coroutine return type where Starlette's ASGIApp says Awaitable.
    handler = Mangum(cast("Any", app), lifespan="auto", api_gateway_base_path=base_path(event))
    response: dict[str, Any] = handler(event, context)
    return response


# ---------------------------------------------------------------- what to log about a request


def rpc_summary(event: Mapping[str, Any]) -> dict[str, Any]:
    """Method, tool and job ids of a JSON-RPC request body, for the log line; never the arguments."""
    body = _body_json(event)
    if not isinstance(body, dict):
        return {"rpc_batch": isinstance(body, list)} if body is not None else {}
    summary: dict[str, Any] = {"rpc_method": body.get("method")}
    params = body.get("params")
    if isinstance(params, dict) and body.get("method") == "tools/call":
        summary["tool"] = params.get("name")
        arguments = params.get("arguments")
        if isinstance(arguments, dict):
            ids = _job_ids(arguments)
            if ids:
                summary["job_ids"] = ids
    return summary


def result_summary(response: Mapping[str, Any]) -> dict[str, Any]:
    """Job ids in a tool result's structured content (e.g. those generate_image created) and isError."""
    raw = response.get("body")
    if not raw or response.get("isBase64Encoded"):
        return {}
    try:
        body = json.loads(raw)
    except (TypeError, ValueError):
        return {}
    if not isinstance(body, dict):
        return {}
    result = body.get("result")
    if not isinstance(result, dict):
        error = body.get("error")
        # JSON-RPC errors are objects with a code; the bearer check answers {"error": "invalid_token"}.
        return {"rpc_error": error.get("code")} if isinstance(error, dict) else {}
    summary: dict[str, Any] = {}
    if result.get("isError"):
        summary["tool_error"] = True
    structured = result.get("structuredContent")
    ids = _job_ids(structured) if isinstance(structured, dict) else []
    if ids:
        summary["job_ids"] = ids
    return summary


def _job_ids(data: Mapping[str, Any]) -> list[str]:
    ids: list[str] = []
    if isinstance(data.get("job_id"), str):
        ids.append(data["job_id"])
    if isinstance(data.get("job_ids"), list):
        ids += [str(item) for item in data["job_ids"] if isinstance(item, str)]
    return list(dict.fromkeys(ids))


def _body_json(event: Mapping[str, Any]) -> Any:
    raw = event.get("body")
    if not raw:
        return None
    try:
        return json.loads(base64.b64decode(raw) if event.get("isBase64Encoded") else raw)
    except (TypeError, ValueError):
        return None


class Stopwatch:
    def __init__(self) -> None:
        self._started = time.perf_counter()

    @property
    def milliseconds(self) -> float:
        return round((time.perf_counter() - self._started) * 1000, 1)
