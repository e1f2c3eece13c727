"""The MCP API behind API Gateway: one ASGI app per invocation around one server per container.

mcp 2.3.0 lets a StreamableHTTPSessionManager run once, and Mangum runs the ASGI lifespan on every
invocation, so a module-level app fails on the second warm request. The MCP server (tools, schemas) is
built once per container; each invocation builds a fresh transport app around it, which costs about a
millisecond. Stateless JSON responses suit Lambda: API Gateway buffers the response anyway.
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
from starlette.types import ASGIApp, Receive, Scope, Send

from imagegen.web.auth import BearerAuthMiddleware, KeyRing
from imagegen.web.discovery import discovery_response

MCP_PATH = "/mcp"
HEALTH_PATHS = ("/healthz", "/health")
MAX_REQUEST_BODY_BYTES = 1_000_000


def event_host(event: Mapping[str, Any]) -> str | None:
    """The domain API Gateway served this request on: its own execute-api name or a custom domain."""
    context = event.get("requestContext") or {}
    domain = context.get("domainName")
    return str(domain) if domain else None


def transport_security(
    event: Mapping[str, Any], allowed_hosts: Sequence[str], allowed_origins: Sequence[str]
) -> TransportSecuritySettings:
    """DNS-rebinding protection for the names this API is really served on.

    API Gateway routes only requests whose Host is its own domain or a mapped custom domain, and names
    that domain in requestContext.domainName; a Host header that differs from it, or from a configured
    custom domain, is rejected.
    """
    hosts = {host for host in (event_host(event), *allowed_hosts) if host}
    origins = {f"https://{host}" for host in hosts} | set(allowed_origins)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=sorted(hosts), allowed_origins=sorted(origins)
    )


def base_path(event: Mapping[str, Any]) -> str:
    """HTTP APIs put a named stage in the raw path (REST APIs do not): strip it before routing."""
    context = event.get("requestContext") or {}
    stage = context.get("stage")
    raw_path = str(event.get("rawPath") or "")
    if event.get("version") == "2.0" and stage and stage != "$default" and raw_path.startswith(f"/{stage}/"):
        return f"/{stage}"
    return "/"


class _PublicPages:
    """The unauthenticated pages: GET /healthz and /health (liveness, version only) and GET / (discovery)."""

    def __init__(self, app: ASGIApp, server: MCPServer) -> None:
        self._app = app
        self._server = server
        self._health = JSONResponse(
            {"status": "ok", "version": server.version}, headers={"cache-control": "no-store"}
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") == "GET":
            path = scope.get("path")
            if path in HEALTH_PATHS:
                await self._health(scope, receive, send)
                return
            if path == "/":
                page = await discovery_response(
                    Request(scope, receive), self._server, mcp_path=MCP_PATH, sse_path=None
                )
                await page(scope, receive, send)
                return
        await self._app(scope, receive, send)


def build_invocation_app(server: MCPServer, keyring: KeyRing, security: TransportSecuritySettings) -> ASGIApp:
    streamable = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        stateless_http=True,
        json_response=True,
        transport_security=security,
        max_request_body_size=MAX_REQUEST_BODY_BYTES,
    )
    # The bearer check wraps the whole app; lifespan events pass through it to the session manager.
    return _PublicPages(BearerAuthMiddleware(streamable, keyring, (MCP_PATH,)), server)


def invoke(
    server: MCPServer,
    keyring: KeyRing,
    event: dict[str, Any],
    context: Any,
    *,
    allowed_hosts: Sequence[str],
    allowed_origins: Sequence[str],
) -> dict[str, Any]:
    app = build_invocation_app(server, keyring, transport_security(event, allowed_hosts, allowed_origins))
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
