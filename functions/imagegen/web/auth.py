"""Bearer-token authentication: a key ring of named API keys and the ASGI middleware that enforces it.

Only SHA-256 digests of tokens are kept, tokens are compared in constant time, never read from the query
string and never logged. Each key has a name, which becomes the owner of every job made with it.

The same header also carries OAuth access tokens. One acts as the client of the key whose owner
consented: the middleware looks up the key by that owner on every request, so the key's admin flag and
limits apply as they are now, and removing the key ends every OAuth grant made with it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from starlette.types import ASGIApp, Receive, Scope, Send

from imagegen.domain.caller import DEFAULT_OWNER, Caller
from imagegen.domain.limits import ClientLimits, LimitsConfig
from imagegen.domain.oauth import SCOPE, Grant, SecretKind, is_kind
from imagegen.mcp.context import current_caller
from imagegen.web.responses import send_json

REALM = "imagegen"


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def generate_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class ApiKey:
    owner: str
    digest: bytes
    is_admin: bool = False
    limits: ClientLimits = field(default_factory=ClientLimits)


class KeyRing:
    def __init__(self, keys: Iterable[ApiKey]) -> None:
        self._keys = tuple(keys)
        if not self._keys:
            raise ValueError("at least one API key is required")
        owners = [key.owner for key in self._keys]
        if len(set(owners)) != len(owners):
            raise ValueError("API key names must be unique")

    @classmethod
    def from_tokens(
        cls, tokens: Mapping[str, str], admin: str | None = None, limits: LimitsConfig | None = None
    ) -> KeyRing:
        """`tokens` maps a client name to its token; `admin` names the key that sees every client's jobs;
        `limits` gives each key its fair-use limits (the defaults where it says nothing)."""
        if admin is not None and admin not in tokens:
            raise ValueError(f"admin key {admin!r} is not one of the configured keys")
        for name, token in tokens.items():
            if len(token) < 16:
                raise ValueError(f"the token for {name!r} is too short: use at least 16 characters")
        config = limits or LimitsConfig()
        return cls(
            ApiKey(owner=name, digest=_digest(token), is_admin=name == admin, limits=config.for_owner(name))
            for name, token in tokens.items()
        )

    @classmethod
    def from_settings(
        cls,
        auth_token: str | None,
        auth_tokens: str | None,
        admin: str | None = None,
        limits: LimitsConfig | None = None,
    ) -> KeyRing:
        """One AUTH_TOKEN (owner 'default'), and/or AUTH_TOKENS as 'name:token,...' or a JSON object."""
        tokens: dict[str, str] = {}
        if auth_token:
            tokens[DEFAULT_OWNER] = auth_token
        if auth_tokens:
            tokens.update(parse_token_map(auth_tokens))
        return cls.from_tokens(tokens, admin, limits)

    def authenticate(self, token: str) -> Caller | None:
        digest = _digest(token)
        match: ApiKey | None = None
        for key in self._keys:  # no early exit: the time taken does not depend on which key matched
            if hmac.compare_digest(key.digest, digest):
                match = key
        return _caller(match) if match else None

    def caller_for(self, owner: str) -> Caller | None:
        """The caller an OAuth grant acts as: the key of the owner who consented, if it still exists."""
        match = next((key for key in self._keys if key.owner == owner), None)
        return _caller(match) if match else None


def _caller(key: ApiKey) -> Caller:
    return Caller(owner=key.owner, is_admin=key.is_admin, limits=key.limits)


def parse_token_map(raw: str) -> dict[str, str]:
    raw = raw.strip()
    if raw.startswith("{"):
        parsed = json.loads(raw)
        if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
            raise ValueError("AUTH_TOKENS JSON must map client names to token strings")
        return {str(name): value for name, value in parsed.items()}
    tokens: dict[str, str] = {}
    for entry in filter(None, (part.strip() for part in raw.split(","))):
        name, sep, token = entry.partition(":")
        if not sep or not name.strip() or not token.strip():
            raise ValueError("AUTH_TOKENS entries must look like 'name:token', separated by commas")
        tokens[name.strip()] = token.strip()
    return tokens


class AccessTokens(Protocol):
    async def grant_for_access_token(self, token: str) -> Grant | None:
        """The grant a valid access token for this resource acts under, else None."""


@dataclass(frozen=True)
class ResourceServer:
    """What the bearer check knows of OAuth: how an access token becomes a grant, and where a client that
    has none learns how to get one (the 401 challenge, RFC 9728 §5.1)."""

    tokens: AccessTokens
    resource_metadata_url: str
    scope: str = SCOPE


class BearerAuthMiddleware:
    """Require a valid bearer token on the protected path prefixes; everything else passes through."""

    def __init__(
        self,
        app: ASGIApp,
        keyring: KeyRing,
        protected_prefixes: tuple[str, ...],
        oauth: ResourceServer | None = None,
    ) -> None:
        self._app = app
        self._keyring = keyring
        self._protected = protected_prefixes
        self._oauth = oauth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._needs_auth(scope):
            await self._app(scope, receive, send)
            return
        caller, problem, presented = await self._caller(scope)
        if caller is None:
            await _unauthorized(send, problem, self._challenge(problem if presented else None))
            return
        scope.setdefault("state", {})["caller"] = caller
        # The SDK binds a legacy SSE session to the user that opened it: another key cannot post into it.
        scope["user"] = AuthenticatedUser(AccessToken(token="", client_id=caller.owner, scopes=[]))
        reset = current_caller.set(caller)
        try:
            await self._app(scope, receive, send)
        finally:
            current_caller.reset(reset)

    def _needs_auth(self, scope: Scope) -> bool:
        path: str = scope.get("path", "")
        # CORS preflights carry no credentials by design; the CORS layer answers them.
        if scope.get("method") == "OPTIONS":
            return False
        return any(path == prefix or path.startswith(prefix.rstrip("/") + "/") for prefix in self._protected)

    async def _caller(self, scope: Scope) -> tuple[Caller | None, str, bool]:
        """The caller, or why there is none, and whether a credential was presented at all."""
        header = next((value for key, value in scope.get("headers", []) if key == b"authorization"), None)
        if header is None:
            query = scope.get("query_string", b"")
            if b"token=" in query or b"access_token=" in query:
                return (
                    None,
                    "Tokens are not accepted in the query string; send Authorization: Bearer <token>.",
                    True,
                )
            return None, "Missing Authorization header; send Authorization: Bearer <token>.", False
        scheme, _, token = header.decode("latin-1").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None, "Authorization must use the Bearer scheme: Authorization: Bearer <token>.", True
        caller = self._keyring.authenticate(token)
        if caller is not None:
            return caller, "", True
        if self._oauth is not None and is_kind(token, SecretKind.ACCESS_TOKEN):
            grant = await self._oauth.tokens.grant_for_access_token(token)
            if grant is None:
                return None, "The access token is expired, revoked, or not issued for this server.", True
            caller = self._keyring.caller_for(grant.owner)
            if caller is None:
                return None, "The key this access was granted with no longer exists.", True
            return caller, "", True
        return None, "The bearer token is not valid.", True

    def _challenge(self, problem: str | None) -> str:
        """RFC 6750 §3 and RFC 9728 §5.1: where to get a token, and what was wrong with the one sent."""
        parts = [f'realm="{REALM}"']
        if self._oauth is not None:
            parts += [
                f'resource_metadata="{self._oauth.resource_metadata_url}"',
                f'scope="{self._oauth.scope}"',
            ]
        if problem is not None:
            parts += ['error="invalid_token"', f'error_description="{problem}"']
        return "Bearer " + ", ".join(parts)


async def _unauthorized(send: Send, description: str, challenge: str) -> None:
    await send_json(
        send,
        401,
        {"error": "invalid_token", "error_description": description},
        [("www-authenticate", challenge)],
    )
