"""Builders for OAuth records, so store and service tests state only what matters to them."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timedelta

from imagegen.domain.oauth import (
    ACCESS_TOKEN_LIFETIME,
    CODE_LIFETIME,
    CONSENT_LIFETIME,
    REFRESH_TOKEN_LIFETIME,
    SCOPE,
    AuthorizationCode,
    ClientAuthMethod,
    ClientSource,
    ConsentRequest,
    Grant,
    Issue,
    IssuedToken,
    OAuthClient,
    SecretKind,
    TokenKind,
    digest,
    new_grant_id,
    new_secret,
)
from tests.support.builders import T0

RESOURCE = "https://mcp.example.test/mcp"
REDIRECT_URI = "http://127.0.0.1:33418/callback"


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of a verifier, computed the way a client computes it (RFC 7636 §4.2)."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


VERIFIER = "dBjftJeZ4CVP-mB92K1uhhxrRnvfQFXuj-c9tfoxSoE"
CHALLENGE = s256(VERIFIER)


def make_client(client_id: str = "client-1", *, created_at: datetime = T0) -> OAuthClient:
    return OAuthClient(
        client_id=client_id,
        client_name="Test client",
        redirect_uris=(REDIRECT_URI,),
        auth_method=ClientAuthMethod.NONE,
        source=ClientSource.REGISTERED,
        created_at=created_at,
    )


def make_consent(client_id: str = "client-1", *, created_at: datetime = T0) -> ConsentRequest:
    return ConsentRequest(
        client_id=client_id,
        redirect_uri=REDIRECT_URI,
        redirect_uri_explicit=True,
        code_challenge=CHALLENGE,
        state="state-1",
        scopes=(SCOPE,),
        resource=RESOURCE,
        created_at=created_at,
        expires_at=created_at + CONSENT_LIFETIME,
    )


def make_code(
    client_id: str = "client-1", *, owner: str = "alice", created_at: datetime = T0
) -> AuthorizationCode:
    return AuthorizationCode(
        client_id=client_id,
        owner=owner,
        redirect_uri=REDIRECT_URI,
        redirect_uri_explicit=True,
        code_challenge=CHALLENGE,
        scopes=(SCOPE,),
        resource=RESOURCE,
        created_at=created_at,
        expires_at=created_at + CODE_LIFETIME,
    )


def make_grant(
    client_id: str = "client-1",
    *,
    owner: str = "alice",
    created_at: datetime = T0,
    grant_id: str | None = None,
) -> Grant:
    return Grant(
        grant_id=grant_id or new_grant_id(),
        client_id=client_id,
        client_name="Test client",
        owner=owner,
        scopes=(SCOPE,),
        resource=RESOURCE,
        created_at=created_at,
        expires_at=created_at + REFRESH_TOKEN_LIFETIME,
    )


def make_issue(grant: Grant, *, at: datetime | None = None) -> tuple[Issue, str, str]:
    """The records of one token response for `grant`, and the access and refresh tokens themselves."""
    issued_at = at or grant.created_at
    access, refresh = new_secret(SecretKind.ACCESS_TOKEN), new_secret(SecretKind.REFRESH_TOKEN)

    def token(kind: TokenKind, lifetime: timedelta) -> IssuedToken:
        return IssuedToken(
            kind=kind,
            grant_id=grant.grant_id,
            client_id=grant.client_id,
            issued_at=issued_at,
            expires_at=issued_at + lifetime,
        )

    issue = Issue(
        grant=grant,
        access_key=digest(access),
        access=token(TokenKind.ACCESS, ACCESS_TOKEN_LIFETIME),
        refresh_key=digest(refresh),
        refresh=token(TokenKind.REFRESH, REFRESH_TOKEN_LIFETIME),
    )
    return issue, access, refresh
