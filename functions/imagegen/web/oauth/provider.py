"""Our authorization server as the SDK's `OAuthAuthorizationServerProvider`, for the SDK handlers we use:
`AuthorizationHandler` (parameter checks, client and redirect URI checks, error redirects with `state`)
and `RegistrationHandler` (RFC 7591 validation, client id and secret minting).

The SDK's token and revocation handlers are not used (see `web.oauth.tokens` for why), so the provider
methods only they call are not implemented. The SDK's client model matches redirect URIs exactly and
scopes strictly; `KnownClient` applies our rules instead: loopback redirects on any port (RFC 8252
§7.3), and the one scope this server grants whatever was asked for.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationErrorCode,
    AuthorizationParams,
    AuthorizeError,
    OAuthAuthorizationServerProvider,
    RefreshToken,
    RegistrationError,
    RegistrationErrorCode,
)
from mcp.shared.auth import InvalidRedirectUriError, OAuthClientInformationFull, OAuthToken
from pydantic import AnyUrl, PrivateAttr

from imagegen.domain.errors import shown
from imagegen.domain.oauth import SCOPE, OAuthClient, OAuthError
from imagegen.services.oauth import OAuthService
from imagegen.web.oauth.urls import OAuthUrls

logger = logging.getLogger(__name__)

NOT_OURS = "the token and revocation endpoints are this server's own (imagegen.web.oauth.tokens)"


class KnownClient(OAuthClientInformationFull):
    """One of our clients as the SDK's authorization handler sees it."""

    _client: OAuthClient = PrivateAttr()

    @classmethod
    def of(cls, client: OAuthClient) -> KnownClient:
        known = cls(
            client_id=client.client_id,
            client_name=client.client_name,
            redirect_uris=[AnyUrl(uri) for uri in client.redirect_uris],
            grant_types=list(client.grant_types),
            token_endpoint_auth_method=client.auth_method.value,
            scope=SCOPE,
        )
        known._client = client
        return known

    @property
    def client(self) -> OAuthClient:
        return self._client

    def validate_redirect_uri(self, redirect_uri: AnyUrl | None) -> AnyUrl:
        try:
            return AnyUrl(
                self._client.redirect_uri_for(str(redirect_uri) if redirect_uri is not None else None)
            )
        except OAuthError as exc:
            raise InvalidRedirectUriError(exc.description) from None

    def validate_scope(self, requested_scope: str | None) -> list[str] | None:
        return [SCOPE]


class ImagegenProvider(OAuthAuthorizationServerProvider[AuthorizationCode, RefreshToken, AccessToken]):
    def __init__(self, oauth: OAuthService, urls: OAuthUrls) -> None:
        self._oauth = oauth
        self._urls = urls

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        try:
            return KnownClient.of(await self._oauth.find_client(client_id))
        except OAuthError as exc:
            # The SDK answers "not found" without a reason; the log keeps it for the operator.
            logger.info("authorization request for unusable client %s: %s", shown(client_id), exc.description)
            return None

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        try:
            await self._oauth.register_client(
                client_id=client_info.client_id,
                client_name=client_info.client_name,
                client_uri=str(client_info.client_uri) if client_info.client_uri else None,
                redirect_uris=[str(uri) for uri in client_info.redirect_uris or []],
                grant_types=client_info.grant_types,
                auth_method=client_info.token_endpoint_auth_method or "client_secret_post",
                secret=client_info.client_secret,
            )
        except OAuthError as exc:
            error: RegistrationErrorCode = (
                "invalid_redirect_uri" if exc.error == "invalid_redirect_uri" else "invalid_client_metadata"
            )
            raise RegistrationError(error=error, error_description=exc.description) from None

    async def authorize(self, client: OAuthClientInformationFull, params: AuthorizationParams) -> str:
        """Hold the request and send the person to the consent page."""
        try:
            known = (
                client.client
                if isinstance(client, KnownClient)
                else await self._oauth.find_client(client.client_id)
            )
            consent = await self._oauth.begin_authorization(
                known,
                redirect_uri=str(params.redirect_uri),
                redirect_uri_explicit=params.redirect_uri_provided_explicitly,
                code_challenge=params.code_challenge,
                state=params.state,
                resource=params.resource,
            )
        except OAuthError as exc:
            error: AuthorizationErrorCode = (
                "invalid_target" if exc.error == "invalid_target" else "invalid_request"
            )
            raise AuthorizeError(error=error, error_description=exc.description) from None
        return f"{self._urls.consent}?{urlencode({'request': consent})}"

    async def load_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: str
    ) -> AuthorizationCode | None:
        raise NotImplementedError(NOT_OURS)

    async def exchange_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: AuthorizationCode
    ) -> OAuthToken:
        raise NotImplementedError(NOT_OURS)

    async def load_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: str
    ) -> RefreshToken | None:
        raise NotImplementedError(NOT_OURS)

    async def exchange_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: RefreshToken, scopes: list[str]
    ) -> OAuthToken:
        raise NotImplementedError(NOT_OURS)

    async def load_access_token(self, token: str) -> AccessToken | None:
        raise NotImplementedError(NOT_OURS)

    async def revoke_token(self, token: AccessToken | RefreshToken) -> None:
        raise NotImplementedError(NOT_OURS)
