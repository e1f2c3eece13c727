"""Every OAuth route, for the local app and the Lambda app alike; which parts are the SDK's and which
are ours is said in each module (and in the README)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection

from mcp.server.auth.handlers.authorize import AuthorizationHandler
from mcp.server.auth.handlers.metadata import MetadataHandler, ProtectedResourceMetadataHandler
from mcp.server.auth.handlers.register import RegistrationHandler
from mcp.server.auth.provider import construct_redirect_uri
from mcp.server.auth.routes import cors_middleware
from mcp.server.transport_security import RequestBodyLimitMiddleware
from mcp.shared.inbound import MCP_PROTOCOL_VERSION_HEADER
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, request_response
from starlette.types import ASGIApp

from imagegen.services.oauth import OAuthService
from imagegen.web.auth import KeyRing
from imagegen.web.oauth.consent import ConsentEndpoints
from imagegen.web.oauth.grants import GrantEndpoints
from imagegen.web.oauth.metadata import (
    REGISTRATION,
    authorization_server_metadata,
    protected_resource_metadata,
)
from imagegen.web.oauth.provider import ImagegenProvider
from imagegen.web.oauth.tokens import TokenEndpoints
from imagegen.web.oauth.urls import OAuthUrls
from imagegen.web.routes import (
    AUTHORIZATION_SERVER_METADATA_PATH,
    AUTHORIZE_PATH,
    CONSENT_PATH,
    GRANT_PATH,
    GRANTS_PATH,
    MCP_RESOURCE_METADATA_PATH,
    OPENID_CONFIGURATION_PATH,
    PROTECTED_RESOURCE_METADATA_PATH,
    REGISTER_PATH,
    REVOKE_PATH,
    TOKEN_PATH,
)

# Forms and registrations are small; nothing here needs the 1 MB an MCP request may have.
MAX_FORM_BYTES = 64 * 1024

Endpoint = Callable[[Request], Awaitable[Response]]


class AuthorizeEndpoint:
    """The SDK's authorization handler, plus RFC 9207's `iss` on every answer that goes back to the client
    (its error redirects lack it; the MCP authorization spec asks for it on errors too)."""

    def __init__(self, provider: ImagegenProvider, urls: OAuthUrls) -> None:
        self._sdk = AuthorizationHandler(provider)
        self._urls = urls

    async def handle(self, request: Request) -> Response:
        response = await self._sdk.handle(request)
        location = response.headers.get("location")
        if location is not None and not location.startswith(self._urls.consent):
            response.headers["location"] = construct_redirect_uri(location, iss=self._urls.issuer)
        return response


def oauth_routes(
    oauth: OAuthService, keyring: KeyRing, urls: OAuthUrls, own_origins: Collection[str]
) -> list[BaseRoute]:
    """The discovery documents and the authorization server's endpoints. `own_origins`: the browser
    origins the consent form may be posted from (the server's own names)."""
    provider = ImagegenProvider(oauth, urls)
    server_metadata = cors_middleware(
        MetadataHandler(authorization_server_metadata(urls)).handle, ["GET", "OPTIONS"]
    )
    resource_metadata = cors_middleware(
        ProtectedResourceMetadataHandler(protected_resource_metadata(urls)).handle, ["GET", "OPTIONS"]
    )
    tokens = TokenEndpoints(oauth)
    consent = ConsentEndpoints(oauth, keyring, urls, own_origins)
    grants = GrantEndpoints(oauth)
    registration = RegistrationHandler(provider, REGISTRATION)
    return [
        Route(PROTECTED_RESOURCE_METADATA_PATH, resource_metadata, methods=["GET", "OPTIONS"]),
        Route(MCP_RESOURCE_METADATA_PATH, resource_metadata, methods=["GET", "OPTIONS"]),
        # OpenID Connect discovery answers with the same document: clients try it when RFC 8414's fails.
        Route(AUTHORIZATION_SERVER_METADATA_PATH, server_metadata, methods=["GET", "OPTIONS"]),
        Route(OPENID_CONFIGURATION_PATH, server_metadata, methods=["GET", "OPTIONS"]),
        Route(AUTHORIZE_PATH, _limited(AuthorizeEndpoint(provider, urls).handle), methods=["GET", "POST"]),
        Route(TOKEN_PATH, _cors_limited(tokens.token), methods=["POST", "OPTIONS"]),
        Route(REGISTER_PATH, _cors_limited(registration.handle), methods=["POST", "OPTIONS"]),
        Route(REVOKE_PATH, _cors_limited(tokens.revoke), methods=["POST", "OPTIONS"]),
        Route(CONSENT_PATH, _limited(consent.handle), methods=["GET", "POST"]),
        Route(GRANTS_PATH, grants.list, methods=["GET"]),
        Route(GRANT_PATH, grants.revoke, methods=["DELETE"]),
    ]


def _limited(endpoint: Endpoint) -> ASGIApp:
    return RequestBodyLimitMiddleware(request_response(endpoint), MAX_FORM_BYTES)


def _cors_limited(endpoint: Endpoint) -> ASGIApp:
    """Browser-based clients (the MCP Inspector's web UI) call these from other origins, without cookies,
    as the SDK's own routes allow."""
    return CORSMiddleware(
        _limited(endpoint),
        allow_origins=["*"],
        allow_methods=["POST", "OPTIONS"],
        allow_headers=["authorization", "content-type", MCP_PROTOCOL_VERSION_HEADER],
    )
