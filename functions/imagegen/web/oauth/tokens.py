"""The token endpoint (RFC 6749 §3.2, OAuth 2.1) and the revocation endpoint (RFC 7009): ours, not the SDK's.

The SDK's `TokenHandler` (mcp 2.3.0) reads the `resource` of a token request and then ignores it, so a
client could ask for a token for another resource and get one for this; RFC 8707 §2.2 wants
`invalid_target`. It also answers a redirect URI that differs from the authorization request's with
`invalid_request` where RFC 6749 §5.2 names `invalid_grant`, and it requires `client_id` in the body
even from clients that authenticate with HTTP Basic. Its `RevocationHandler` requires a
`client_secret` field from public clients, which have none. Both split their checks between the
handler and the provider in a way that cannot make code redemption and refresh rotation single atomic
steps. So the endpoints parse the form here, and every decision is `OAuthService`'s.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from urllib.parse import unquote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from imagegen.domain.oauth import (
    AUTHORIZATION_CODE_GRANT,
    REFRESH_TOKEN_GRANT,
    OAuthClient,
    OAuthError,
    normalize_url,
)
from imagegen.services.oauth import OAuthService

NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}
REALM = "imagegen"


def oauth_error(exc: OAuthError, *, basic_auth: bool = False) -> JSONResponse:
    """RFC 6749 §5.2: 400 with the error code, 401 for a client that failed to authenticate."""
    headers = dict(NO_STORE)
    status = 400
    if exc.error == "invalid_client":
        status = 401
        if basic_auth:
            headers["www-authenticate"] = f'Basic realm="{REALM}"'
    return JSONResponse(
        {"error": exc.error, "error_description": exc.description}, status_code=status, headers=headers
    )


class TokenEndpoints:
    def __init__(self, oauth: OAuthService) -> None:
        self._oauth = oauth

    async def token(self, request: Request) -> Response:
        form = await request.form()
        basic = _uses_basic_auth(request)
        try:
            client = await self._authenticate(request, form)
            grant_type = _required(form, "grant_type")
            if grant_type == AUTHORIZATION_CODE_GRANT:
                redirect_uri = _optional(form, "redirect_uri")
                tokens = await self._oauth.exchange_code(
                    client,
                    code=_required(form, "code"),
                    code_verifier=_required(form, "code_verifier"),
                    redirect_uri=_as_url(redirect_uri) if redirect_uri is not None else None,
                    resource=_resource(form),
                )
            elif grant_type == REFRESH_TOKEN_GRANT:
                tokens = await self._oauth.refresh(
                    client, refresh_token=_required(form, "refresh_token"), resource=_resource(form)
                )
            else:
                raise OAuthError(
                    "unsupported_grant_type",
                    f"grant_type must be {AUTHORIZATION_CODE_GRANT} or {REFRESH_TOKEN_GRANT}.",
                )
        except OAuthError as exc:
            return oauth_error(exc, basic_auth=basic)
        return JSONResponse(tokens.model_dump(exclude_none=True), headers=NO_STORE)

    async def revoke(self, request: Request) -> Response:
        """Answers 200 whether or not the token was known (RFC 7009 §2.2): nothing to learn by probing."""
        form = await request.form()
        try:
            client = await self._authenticate(request, form)
            token = _required(form, "token")
        except OAuthError as exc:
            return oauth_error(exc, basic_auth=_uses_basic_auth(request))
        await self._oauth.revoke_token(client, token)
        return Response(status_code=200, headers=NO_STORE)

    async def _authenticate(self, request: Request, form: FormData) -> OAuthClient:
        """RFC 6749 §2.3.1: the client's id and secret from HTTP Basic, or from the body."""
        header = request.headers.get("authorization", "")
        if _uses_basic_auth(request):
            try:
                decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                raise OAuthError("invalid_client", "The Basic authorization header is malformed.") from None
            raw_id, separator, raw_secret = decoded.partition(":")
            if not separator:
                raise OAuthError("invalid_client", "The Basic authorization header is malformed.")
            client_id, secret = unquote(raw_id.replace("+", " ")), unquote(raw_secret.replace("+", " "))
            named = _optional(form, "client_id")
            if named is not None and named != client_id:
                raise OAuthError("invalid_client", "client_id differs from the one in the Basic header.")
            return await self._oauth.authenticate_client(client_id, secret)
        posted_id = _optional(form, "client_id")
        if posted_id is None:
            raise OAuthError("invalid_client", "The client did not identify itself: send client_id.")
        return await self._oauth.authenticate_client(posted_id, _optional(form, "client_secret"))


def _uses_basic_auth(request: Request) -> bool:
    return request.headers.get("authorization", "").lower().startswith("basic ")


def _values(form: FormData, name: str) -> Sequence[str]:
    values = form.getlist(name)
    if not all(isinstance(value, str) for value in values):
        raise OAuthError("invalid_request", f"{name} must be a plain form field.")
    return [value for value in values if isinstance(value, str)]


def _optional(form: FormData, name: str) -> str | None:
    """RFC 6749 §3.2: parameters must not repeat; empty counts as absent."""
    values = _values(form, name)
    if len(values) > 1:
        raise OAuthError("invalid_request", f"{name} is given more than once.")
    return values[0] if values and values[0] else None


def _required(form: FormData, name: str) -> str:
    value = _optional(form, name)
    if value is None:
        raise OAuthError("invalid_request", f"{name} is required.")
    return value


def _resource(form: FormData) -> str | None:
    """RFC 8707 allows several `resource` parameters; this server serves one, so each must be it."""
    values = _values(form, "resource")
    if len({*values}) > 1:
        raise OAuthError("invalid_target", "A token here is for one resource: this server's MCP endpoint.")
    return values[0] if values else None


def _as_url(value: str) -> str:
    try:
        return normalize_url(value)
    except ValueError:
        raise OAuthError(
            "invalid_grant", "redirect_uri does not match the one the code was issued for."
        ) from None
