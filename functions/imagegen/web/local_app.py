"""The local server: one Starlette app with the MCP endpoints, the OAuth authorization server, public
images and health checks.

The app is given what it serves (the tools' context, the image store, the keys, the OAuth service) and
what to start and stop with it; the local runtime (`runtime.local`) composes them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Protocol

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from imagegen import __version__
from imagegen.domain.errors import StorageError
from imagegen.domain.models import IMAGE_KEY_PREFIX
from imagegen.imaging import decodes
from imagegen.mcp.context import AppContext
from imagegen.mcp.server import build_mcp_server
from imagegen.ports import ImageStore
from imagegen.services.oauth import OAuthService
from imagegen.settings import LocalSettings
from imagegen.web.auth import BearerAuthMiddleware, KeyRing, ResourceServer
from imagegen.web.discovery import discovery_response
from imagegen.web.favicon import favicon_response
from imagegen.web.jsonrpc_envelope import JsonRpcEnvelopeCheck
from imagegen.web.oauth.routes import oauth_routes
from imagegen.web.oauth.urls import OAuthUrls
from imagegen.web.openai_images import openai_images_route
from imagegen.web.routes import (
    CORS_ALLOW_HEADERS,
    CORS_EXPOSE_HEADERS,
    DISCOVERY_PATH,
    FAVICON_PATH,
    GRANTS_PATH,
    HEALTH_PATHS,
    MCP_PATH,
    MESSAGES_PATH,
    OPENAI_IMAGES_PATH,
    SSE_PATH,
)
from imagegen.web.stateless import StatelessMcpEndpoint

PROTECTED_PREFIXES = (MCP_PATH, SSE_PATH, MESSAGES_PATH, GRANTS_PATH, OPENAI_IMAGES_PATH)


def cors_middleware(origins: list[str]) -> list[Middleware]:
    """CORS for browser clients, only for the configured origins; none by default."""
    if not origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=list(CORS_ALLOW_HEADERS),
            expose_headers=list(CORS_EXPOSE_HEADERS),
            max_age=600,
        )
    ]


def transport_security(
    host: str, port: int, extra_hosts: list[str], extra_origins: list[str]
) -> TransportSecuritySettings:
    """DNS-rebinding protection for the address we really listen on, plus configured names."""
    hosts = {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"}
    if host not in ("0.0.0.0", "::"):
        hosts.add(f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
    hosts.update(extra_hosts)
    origins = {f"http://{allowed}" for allowed in hosts} | set(extra_origins)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=sorted(hosts), allowed_origins=sorted(origins)
    )


def mcp_routes(
    server: MCPServer, security: TransportSecuritySettings, max_body: int, *, with_sse: bool
) -> list[BaseRoute]:
    """The MCP routes: stateless Streamable HTTP (and legacy SSE). The caller runs the session manager."""
    # json_response=False: quick calls still answer plain JSON, and a call that reports progress
    # switches to an SSE stream so the notifications reach the client while it waits.
    streamable = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        stateless_http=True,
        json_response=False,
        transport_security=security,
        max_request_body_size=max_body,
    )
    routes = list(streamable.routes)
    if with_sse:
        sse = server.sse_app(
            sse_path=SSE_PATH,
            message_path=MESSAGES_PATH,
            transport_security=security,
            max_request_body_size=max_body,
        )
        routes += list(sse.routes)
    return routes


class Lifecycle(Protocol):
    """What starts and stops with the app (the worker pool, restart recovery)."""

    async def start(self) -> object: ...

    async def stop(self) -> None: ...


def create_local_app(
    settings: LocalSettings,
    context: AppContext,
    images: ImageStore,
    keyring: KeyRing,
    lifecycle: Lifecycle,
    oauth: OAuthService,
) -> Starlette:
    server = build_mcp_server(context)
    urls = OAuthUrls(settings.base_url)
    # A browser origin allowed by CORS must also pass the transport's Origin check.
    origins = [*settings.allowed_origins, *settings.cors_allowed_origins]
    security = transport_security(settings.host, settings.port, settings.allowed_hosts, origins)

    async def image(request: Request) -> Response:
        try:
            found = await images.get(f"{IMAGE_KEY_PREFIX}/{request.path_params['name']}")
        except StorageError as exc:
            return JSONResponse({"error": "unavailable", "error_description": str(exc)}, status_code=503)
        if found is None:
            return JSONResponse(
                {"error": "not_found", "error_description": "No such image."}, status_code=404
            )
        data, content_type = found
        if not await asyncio.to_thread(decodes, data):
            # Never hand out bytes under a type they do not have: a browser would show a broken image.
            return JSONResponse(
                {
                    "error": "damaged",
                    "error_description": "This image is damaged and is not served; generate it again.",
                },
                status_code=410,
            )
        # Keys are derived from random job ids and never rewritten with other content.
        return Response(
            data, media_type=content_type, headers={"cache-control": "public, max-age=31536000, immutable"}
        )

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "version": __version__, "provider": context.provider_name})

    async def discovery(request: Request) -> Response:
        return await discovery_response(
            request, server, base_url=settings.base_url, mcp_path=MCP_PATH, sse_path=SSE_PATH
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with server.session_manager.run():
            await lifecycle.start()
            try:
                yield
            finally:
                await lifecycle.stop()

    routes: list[BaseRoute] = [
        *mcp_routes(server, security, settings.max_request_body_bytes, with_sse=True),
        Route(f"/{IMAGE_KEY_PREFIX}/{{name:path}}", image, methods=["GET", "HEAD"]),
        *(Route(path, health, methods=["GET"]) for path in HEALTH_PATHS),
        Route(DISCOVERY_PATH, discovery, methods=["GET"]),
        Route(FAVICON_PATH, lambda request: favicon_response(), methods=["GET"]),
        *oauth_routes(oauth, keyring, urls, security.allowed_origins),
        openai_images_route(context),
    ]
    middleware = [
        *cors_middleware(settings.cors_allowed_origins),
        Middleware(
            BearerAuthMiddleware,
            keyring=keyring,
            protected_prefixes=PROTECTED_PREFIXES,
            oauth=ResourceServer(oauth, urls.resource_metadata),
        ),
        # Stateless: no standalone stream to open with GET, no session to end with DELETE.
        Middleware(StatelessMcpEndpoint, path=MCP_PATH),
        Middleware(JsonRpcEnvelopeCheck, path=MCP_PATH, max_body_bytes=settings.max_request_body_bytes),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.mcp_server = server
    return app
