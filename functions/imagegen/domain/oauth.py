"""OAuth 2.1 for the MCP endpoint: what a client, a consent, a code, a grant and a token are, and the rules
that decide whether a request for one is acceptable. Plain data and pure functions; `services.oauth`
applies them against a `GrantStore`.

Every secret this server hands out (authorization codes, access and refresh tokens, the id of a pending
consent, client secrets) is random, starts with a prefix that says what it is, and is stored only as its
SHA-256 digest, so a copy of the store grants nothing. A grant is one person's consent for one client:
the code it was made from, and every access and refresh token descended from it. Revoking a grant (by
the owner, by the admin, at the revocation endpoint, or because a code or refresh token was used twice)
ends all of them at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal
from urllib.parse import urlsplit

from pydantic import AnyUrl, BaseModel, ConfigDict, Field, ValidationError

from imagegen.domain.errors import ImagegenError, shown

# The one scope: use imagegen as the client of the key that consented. Every token carries it.
SCOPE = "imagegen"

ACCESS_TOKEN_LIFETIME = timedelta(hours=1)
# Sliding: each refresh starts a new 30 days. An unused grant ends 30 days after its last refresh.
REFRESH_TOKEN_LIFETIME = timedelta(days=30)
CODE_LIFETIME = timedelta(minutes=5)
CONSENT_LIFETIME = timedelta(minutes=10)
# A fetched client metadata document is used this long at most, less if its Cache-Control says so.
CLIENT_DOCUMENT_MAX_AGE = timedelta(minutes=10)

AUTHORIZATION_CODE_GRANT = "authorization_code"
REFRESH_TOKEN_GRANT = "refresh_token"

OAuthErrorCode = Literal[
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "invalid_target",
    "access_denied",
    "invalid_redirect_uri",
    "invalid_client_metadata",
]


class OAuthError(ImagegenError):
    """A request the OAuth rules refuse, with the error code RFC 6749 (or 7591, 8707) names for it."""

    def __init__(self, error: OAuthErrorCode, description: str) -> None:
        super().__init__(description)
        self.error: OAuthErrorCode = error
        self.description = description


class ClientDocumentUnavailable(ImagegenError):
    """A client metadata document could not be fetched safely; the message says why."""


# ---------------------------------------------------------------- secrets


class SecretKind(StrEnum):
    """The prefix of each kind of secret: it tells a static key from an OAuth token without a lookup."""

    CONSENT = "ig_consent_"
    CODE = "ig_code_"
    ACCESS_TOKEN = "ig_at_"
    REFRESH_TOKEN = "ig_rt_"


def new_secret(kind: SecretKind) -> str:
    return f"{kind.value}{secrets.token_urlsafe(32)}"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def is_kind(secret: str, kind: SecretKind) -> bool:
    return secret.startswith(kind.value)


def new_grant_id() -> str:
    """Grant ids are shown to owners and admins; they name a grant but grant nothing."""
    return f"grant_{secrets.token_hex(12)}"


# ---------------------------------------------------------------- PKCE (RFC 7636, S256 only)

_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_S256_CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")


def is_s256_challenge(challenge: str) -> bool:
    """A BASE64URL-encoded SHA-256 digest, unpadded: exactly 43 characters."""
    return _S256_CHALLENGE.fullmatch(challenge) is not None


def verifier_matches(verifier: str, challenge: str) -> bool:
    if _VERIFIER.fullmatch(verifier) is None:
        return False
    computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=")
    return hmac.compare_digest(computed, challenge.encode("ascii", errors="replace"))


# ---------------------------------------------------------------- URLs

_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
# Schemes a browser would run or read locally instead of handing to an app: never a redirect target.
_FORBIDDEN_REDIRECT_SCHEMES = frozenset({"javascript", "data", "file", "vbscript", "blob", "about", "ftp"})


def normalize_url(value: str) -> str:
    """The spelling every stored and compared redirect URI has: pydantic's, which both the SDK's
    authorization handler and our token endpoint parse with. Raises ValueError when it is no URL."""
    try:
        return str(AnyUrl(value))
    except ValidationError as exc:
        raise ValueError(f"{shown(value)} is not a URL") from exc


def is_loopback_http(uri: str) -> bool:
    parts = urlsplit(uri)
    return parts.scheme == "http" and (parts.hostname or "") in _LOOPBACK_HOSTS


def check_redirect_uri(uri: str) -> None:
    """What a client may register as a redirect URI: https, http on this machine's loopback (native apps,
    RFC 8252 §7.3), or an app's own scheme (RFC 8252 §7.1), never with a fragment."""
    parts = urlsplit(uri)
    problem = None
    if parts.fragment:
        problem = "must not contain a fragment"
    elif parts.scheme in _FORBIDDEN_REDIRECT_SCHEMES:
        problem = f"uses the {parts.scheme}: scheme"
    elif parts.scheme == "http" and not is_loopback_http(uri):
        problem = "uses http for a host other than 127.0.0.1, [::1] or localhost; use https"
    elif parts.scheme in ("http", "https") and not parts.hostname:
        problem = "has no host"
    if problem:
        raise OAuthError("invalid_redirect_uri", f"Redirect URI {shown(uri)} {problem}.")


def redirect_uri_matches(registered: str, requested: str) -> bool:
    """Exact match, except that a loopback redirect matches on any port (RFC 8252 §7.3): a native app
    listens on whatever port is free when it starts."""
    if hmac.compare_digest(registered, requested):
        return True
    if not (is_loopback_http(registered) and is_loopback_http(requested)):
        return False
    known, asked = urlsplit(registered), urlsplit(requested)
    same_place = (known.hostname, known.path, known.query) == (asked.hostname, asked.path, asked.query)
    return same_place and not (known.fragment or asked.fragment or known.username or asked.username)


def canonical_resource(uri: str) -> str:
    """A resource indicator as RFC 8707 compares it: scheme and host case-insensitive, default ports
    implied, no trailing slash."""
    parts = urlsplit(uri.strip())
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    default_port = {"https": 443, "http": 80}.get(parts.scheme.lower())
    port = "" if parts.port in (None, default_port) else f":{parts.port}"
    return f"{parts.scheme.lower()}://{host}{port}{parts.path.rstrip('/')}"


def check_client_id_url(url: str) -> None:
    """A client id that is a URL must be one a Client ID Metadata Document can live at: https, a host, a
    path below the root, nothing that makes two spellings of one URL (draft-ietf-oauth-client-id-
    metadata-document §3)."""
    parts = urlsplit(url)
    problem = None
    if parts.scheme != "https":
        problem = "is not an https URL"
    elif not parts.hostname:
        problem = "has no host"
    elif parts.username is not None or parts.password is not None:
        problem = "contains credentials"
    elif parts.fragment or "#" in url:
        problem = "contains a fragment"
    elif parts.path in ("", "/"):
        problem = "has no path"
    elif any(segment in (".", "..") for segment in parts.path.split("/")):
        problem = "contains a . or .. path segment"
    elif len(url) > 2048:
        problem = "is longer than 2048 characters"
    if problem:
        raise OAuthError("invalid_client", f"Client id {shown(url)} {problem}.")


def is_url_client_id(client_id: str) -> bool:
    """Registered clients get opaque ids; anything that looks like a URL is a metadata document's."""
    return "://" in client_id


# ---------------------------------------------------------------- records


class ClientAuthMethod(StrEnum):
    NONE = "none"
    SECRET_POST = "client_secret_post"
    SECRET_BASIC = "client_secret_basic"


class ClientSource(StrEnum):
    REGISTERED = "registered"  # RFC 7591 dynamic registration
    METADATA_DOCUMENT = "metadata_document"  # the client id is the URL of its metadata document


class OAuthClient(BaseModel):
    """A client as this server knows it, from its registration or its fetched metadata document."""

    model_config = ConfigDict(frozen=True)

    client_id: str
    client_name: str | None = None
    client_uri: str | None = None
    redirect_uris: tuple[str, ...]
    grant_types: tuple[str, ...] = (AUTHORIZATION_CODE_GRANT, REFRESH_TOKEN_GRANT)
    auth_method: ClientAuthMethod = ClientAuthMethod.NONE
    secret_digest: str | None = None
    source: ClientSource
    created_at: datetime
    # A metadata document is fetched again after this; registrations do not expire.
    expires_at: datetime | None = None

    @property
    def display_name(self) -> str:
        return self.client_name or self.client_id

    @property
    def may_refresh(self) -> bool:
        return REFRESH_TOKEN_GRANT in self.grant_types

    def redirect_uri_for(self, requested: str | None) -> str:
        """The URI to send the person back to: the requested one if registered (a loopback one on any
        port), or the only registered one when none was asked for."""
        if requested is None:
            if len(self.redirect_uris) == 1:
                return self.redirect_uris[0]
            raise OAuthError(
                "invalid_request", "redirect_uri is required: this client registered more than one."
            )
        if any(redirect_uri_matches(known, requested) for known in self.redirect_uris):
            return requested
        raise OAuthError(
            "invalid_request", f"Redirect URI {shown(requested)} is not registered for this client."
        )

    def secret_matches(self, secret: str | None) -> bool:
        if self.secret_digest is None or secret is None:
            return False
        return hmac.compare_digest(self.secret_digest, digest(secret))


class ClientMetadataDocument(BaseModel):
    """The parts of a Client ID Metadata Document (or RFC 7591 metadata) this server uses."""

    model_config = ConfigDict(extra="ignore")

    client_id: str
    client_name: str = Field(min_length=1, max_length=200)
    client_uri: str | None = None
    redirect_uris: list[str] = Field(min_length=1, max_length=20)
    # RFC 7591 §2: without grant_types a client asks for authorization codes only.
    grant_types: list[str] = Field(default_factory=lambda: [AUTHORIZATION_CODE_GRANT])
    response_types: list[str] = Field(default_factory=lambda: ["code"])
    token_endpoint_auth_method: str = ClientAuthMethod.NONE.value


class ConsentRequest(BaseModel):
    """An authorization request waiting for a person to sign in and decide (the consent page)."""

    model_config = ConfigDict(frozen=True)

    client_id: str
    redirect_uri: str
    # RFC 6749 §4.1.3: when the request named its redirect URI, the token request must name it again.
    redirect_uri_explicit: bool
    code_challenge: str
    state: str | None
    scopes: tuple[str, ...]
    resource: str
    created_at: datetime
    expires_at: datetime


class AuthorizationCode(BaseModel):
    model_config = ConfigDict(frozen=True)

    client_id: str
    owner: str
    redirect_uri: str
    redirect_uri_explicit: bool
    code_challenge: str
    scopes: tuple[str, ...]
    resource: str
    created_at: datetime
    expires_at: datetime
    # Set when the code was exchanged: a second exchange revokes this grant (RFC 6749 §4.1.2).
    redeemed_by_grant: str | None = None


class Grant(BaseModel):
    """One person's consent for one client, and the family of tokens descended from it."""

    model_config = ConfigDict(frozen=True)

    grant_id: str
    client_id: str
    client_name: str | None = None
    owner: str
    scopes: tuple[str, ...]
    resource: str
    created_at: datetime
    refreshed_at: datetime | None = None
    # When the newest refresh token expires; the grant is over then.
    expires_at: datetime
    revoked_at: datetime | None = None
    revoked_because: str | None = None

    def is_active(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


class TokenKind(StrEnum):
    ACCESS = "access"
    REFRESH = "refresh"


class IssuedToken(BaseModel):
    """An access or refresh token, stored under its digest."""

    model_config = ConfigDict(frozen=True)

    kind: TokenKind
    grant_id: str
    client_id: str
    issued_at: datetime
    expires_at: datetime
    # Refresh tokens only: when it was exchanged for the next one. Presenting it again is reuse.
    rotated_at: datetime | None = None


class Issue(BaseModel):
    """What a successful token request writes, all or nothing: the grant as it now is and new tokens."""

    model_config = ConfigDict(frozen=True)

    grant: Grant
    access_key: str
    access: IssuedToken
    refresh_key: str | None = None
    refresh: IssuedToken | None = None


class TokenSet(BaseModel):
    """What the token endpoint answers (RFC 6749 §5.1): the secrets themselves, shown once."""

    model_config = ConfigDict(frozen=True)

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    scope: str
    refresh_token: str | None = None
