"""The authorization server's decisions: which clients exist, what a consent, a code and a refresh token
are worth, and which access tokens let a request through. The HTTP edge (`web.oauth`) parses requests and
shapes answers; everything it must not get wrong is decided here, against a `GrantStore`.

Order matters in the exchanges. A code or refresh token presented by another client is treated as
unknown and changes nothing (it must not break the owner's grant). A code whose PKCE verifier does not
match is refused and stays usable, so someone who intercepted it cannot burn it. Only a second use by
the client that holds the verifier (a code) or the token (a refresh token) is a replay, and a replay
revokes the whole grant: whoever holds the other copy loses access too, as RFC 6749 §4.1.2 and OAuth 2.1
§4.3.1 ask.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import ValidationError

from imagegen.domain.caller import Caller
from imagegen.domain.errors import shown
from imagegen.domain.oauth import (
    ACCESS_TOKEN_LIFETIME,
    AUTHORIZATION_CODE_GRANT,
    CLIENT_DOCUMENT_MAX_AGE,
    CODE_LIFETIME,
    CONSENT_LIFETIME,
    REFRESH_TOKEN_GRANT,
    REFRESH_TOKEN_LIFETIME,
    SCOPE,
    AuthorizationCode,
    ClientAuthMethod,
    ClientDocumentUnavailable,
    ClientMetadataDocument,
    ClientSource,
    ConsentRequest,
    Grant,
    Issue,
    IssuedToken,
    OAuthClient,
    OAuthError,
    SecretKind,
    TokenKind,
    TokenSet,
    canonical_resource,
    check_client_id_url,
    check_redirect_uri,
    digest,
    is_kind,
    is_s256_challenge,
    is_url_client_id,
    new_grant_id,
    new_secret,
    normalize_url,
    verifier_matches,
)
from imagegen.ports import ClientDocumentSource, Clock, GrantStore

logger = logging.getLogger(__name__)

SUPPORTED_GRANT_TYPES = (AUTHORIZATION_CODE_GRANT, REFRESH_TOKEN_GRANT)


@dataclass(frozen=True)
class ConsentView:
    """What the consent page shows: the request and the client asking."""

    consent: ConsentRequest
    client: OAuthClient


@dataclass(frozen=True)
class Redirect:
    """Where the person's browser goes after deciding, with what (RFC 6749 §4.1.2)."""

    redirect_uri: str
    state: str | None
    code: str | None = None  # None: the person said no


class OAuthService:
    def __init__(
        self, store: GrantStore, documents: ClientDocumentSource, clock: Clock, *, resource: str
    ) -> None:
        """`resource` is the MCP endpoint's URL: every token is bound to it (RFC 8707)."""
        self.store = store
        self._documents = documents
        self._clock = clock
        self.resource = resource

    # ------------------------------------------------------------ clients

    async def register_client(
        self,
        *,
        client_id: str,
        client_name: str | None,
        client_uri: str | None,
        redirect_uris: Sequence[str],
        grant_types: Sequence[str],
        auth_method: str,
        secret: str | None,
    ) -> OAuthClient:
        """Dynamic Client Registration (RFC 7591). Raises OAuthError invalid_redirect_uri or
        invalid_client_metadata."""
        try:
            method = ClientAuthMethod(auth_method)
        except ValueError:
            raise OAuthError(
                "invalid_client_metadata",
                f"token_endpoint_auth_method {shown(auth_method)} is not supported; use none, "
                "client_secret_post or client_secret_basic.",
            ) from None
        if (method is ClientAuthMethod.NONE) != (secret is None):
            raise OAuthError(
                "invalid_client_metadata", "A client has a secret exactly when it authenticates."
            )
        client = OAuthClient(
            client_id=client_id,
            client_name=client_name,
            client_uri=client_uri,
            redirect_uris=_checked_redirect_uris(redirect_uris),
            grant_types=tuple(grant for grant in grant_types if grant in SUPPORTED_GRANT_TYPES),
            auth_method=method,
            secret_digest=digest(secret) if secret is not None else None,
            source=ClientSource.REGISTERED,
            created_at=self._clock.now(),
        )
        await self.store.save_client(client)
        return client

    async def find_client(self, client_id: str) -> OAuthClient:
        """A registered client, or the client whose metadata document `client_id` is the URL of (fetched,
        checked and cached). Raises OAuthError invalid_client saying what is wrong."""
        if not is_url_client_id(client_id):
            found = await self.store.get_client(client_id)
            if found is None or found.source is not ClientSource.REGISTERED:
                raise OAuthError("invalid_client", f"No client {shown(client_id)} is registered here.")
            return found
        check_client_id_url(client_id)
        now = self._clock.now()
        cached = await self.store.get_client(client_id)
        if cached is not None and cached.expires_at is not None and now < cached.expires_at:
            return cached
        try:
            document = await self._documents.fetch(client_id)
        except ClientDocumentUnavailable as exc:
            raise OAuthError("invalid_client", f"The client metadata document {client_id} {exc}") from None
        client = _client_from_document(client_id, document.body, now, document.max_age_seconds)
        await self.store.save_client(client)
        return client

    async def authenticate_client(self, client_id: str, secret: str | None) -> OAuthClient:
        """The client at the token and revocation endpoints: public clients by id, others by secret."""
        client = await self.find_client(client_id)
        if client.auth_method is not ClientAuthMethod.NONE and not client.secret_matches(secret):
            raise OAuthError("invalid_client", "The client secret is missing or wrong.")
        return client

    # ------------------------------------------------------------ authorization and consent

    async def begin_authorization(
        self,
        client: OAuthClient,
        *,
        redirect_uri: str,
        redirect_uri_explicit: bool,
        code_challenge: str,
        state: str | None,
        resource: str | None,
    ) -> str:
        """Hold the request while the person decides; returns the secret id of the pending consent."""
        target = self._target(resource)
        if not is_s256_challenge(code_challenge):
            raise OAuthError(
                "invalid_request", "code_challenge must be an S256 challenge: 43 characters of BASE64URL."
            )
        now = self._clock.now()
        consent = ConsentRequest(
            client_id=client.client_id,
            redirect_uri=client.redirect_uri_for(redirect_uri),
            redirect_uri_explicit=redirect_uri_explicit,
            code_challenge=code_challenge,
            state=state,
            scopes=(SCOPE,),
            resource=target,
            created_at=now,
            expires_at=now + CONSENT_LIFETIME,
        )
        secret = new_secret(SecretKind.CONSENT)
        await self.store.save_consent(digest(secret), consent)
        await self.store.forget_expired(now)
        return secret

    async def consent(self, consent_id: str) -> ConsentView | None:
        """The pending request behind a consent page, or None when it expired or was decided."""
        if not is_kind(consent_id, SecretKind.CONSENT):
            return None
        consent = await self.store.get_consent(digest(consent_id))
        if consent is None or self._clock.now() >= consent.expires_at:
            return None
        return ConsentView(consent, await self.find_client(consent.client_id))

    async def approve(self, consent_id: str, owner: str) -> Redirect:
        """The person signed in as `owner` and said yes: a code for the client, once."""
        consent = await self._take_consent(consent_id)
        now = self._clock.now()
        code = new_secret(SecretKind.CODE)
        await self.store.save_code(
            digest(code),
            AuthorizationCode(
                client_id=consent.client_id,
                owner=owner,
                redirect_uri=consent.redirect_uri,
                redirect_uri_explicit=consent.redirect_uri_explicit,
                code_challenge=consent.code_challenge,
                scopes=consent.scopes,
                resource=consent.resource,
                created_at=now,
                expires_at=now + CODE_LIFETIME,
            ),
        )
        return Redirect(consent.redirect_uri, consent.state, code)

    async def deny(self, consent_id: str) -> Redirect:
        consent = await self._take_consent(consent_id)
        return Redirect(consent.redirect_uri, consent.state)

    async def _take_consent(self, consent_id: str) -> ConsentRequest:
        consent = await self.store.take_consent(digest(consent_id)) if consent_id else None
        if consent is None or self._clock.now() >= consent.expires_at:
            raise OAuthError(
                "invalid_request", "This sign-in request expired or was answered already; connect again."
            )
        return consent

    # ------------------------------------------------------------ tokens

    async def exchange_code(
        self,
        client: OAuthClient,
        *,
        code: str,
        code_verifier: str,
        redirect_uri: str | None,
        resource: str | None,
    ) -> TokenSet:
        if AUTHORIZATION_CODE_GRANT not in client.grant_types:
            raise OAuthError("unauthorized_client", "This client did not register for authorization codes.")
        self._target(resource)
        key = digest(code)
        found = await self.store.get_code(key) if is_kind(code, SecretKind.CODE) else None
        # Another client's code reads as unknown, and is left as it is for its own client.
        if found is None or found.client_id != client.client_id:
            raise OAuthError("invalid_grant", "The authorization code is not valid.")
        now = self._clock.now()
        if now >= found.expires_at:
            raise OAuthError("invalid_grant", "The authorization code has expired; authorize again.")
        if found.redirect_uri_explicit and redirect_uri is None:
            raise OAuthError(
                "invalid_request", "redirect_uri is required: the authorization request named it."
            )
        if redirect_uri is not None and redirect_uri != found.redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri does not match the one the code was issued for.")
        if not verifier_matches(code_verifier, found.code_challenge):
            raise OAuthError("invalid_grant", "The code_verifier does not match the code_challenge.")
        if found.redeemed_by_grant is not None:
            await self._revoke_replayed(found.redeemed_by_grant, "authorization code used twice")
        grant = Grant(
            grant_id=new_grant_id(),
            client_id=client.client_id,
            client_name=client.client_name,
            owner=found.owner,
            scopes=found.scopes,
            resource=found.resource,
            created_at=now,
            expires_at=now + REFRESH_TOKEN_LIFETIME,
        )
        issue, tokens = self._issue(grant, client, now)
        if not await self.store.redeem_code(key, issue):
            # Lost a race with another exchange of the same code: that is a replay too.
            again = await self.store.get_code(key)
            if again is not None and again.redeemed_by_grant is not None:
                await self._revoke_replayed(again.redeemed_by_grant, "authorization code used twice")
            raise OAuthError("invalid_grant", "The authorization code is not valid.")
        return tokens

    async def refresh(self, client: OAuthClient, *, refresh_token: str, resource: str | None) -> TokenSet:
        """Rotate: the presented refresh token is spent, a new pair comes back. Scopes asked for here are
        ignored; a grant never widens (every token carries the one scope anyway)."""
        if not client.may_refresh:
            raise OAuthError("unauthorized_client", "This client did not register for refresh tokens.")
        self._target(resource)
        key = digest(refresh_token)
        token = await self.store.get_token(key) if is_kind(refresh_token, SecretKind.REFRESH_TOKEN) else None
        if token is None or token.kind is not TokenKind.REFRESH or token.client_id != client.client_id:
            raise OAuthError("invalid_grant", "The refresh token is not valid.")
        grant = await self.store.get_grant(token.grant_id)
        if grant is None or grant.revoked_at is not None:
            raise OAuthError("invalid_grant", "The refresh token was revoked; authorize again.")
        if token.rotated_at is not None:
            await self._revoke_replayed(grant.grant_id, "refresh token used twice")
        now = self._clock.now()
        if now >= token.expires_at or now >= grant.expires_at:
            raise OAuthError("invalid_grant", "The refresh token has expired; authorize again.")
        renewed = grant.model_copy(update={"refreshed_at": now, "expires_at": now + REFRESH_TOKEN_LIFETIME})
        issue, tokens = self._issue(renewed, client, now)
        if not await self.store.rotate_refresh_token(key, issue):
            again = await self.store.get_token(key)
            if again is not None and again.rotated_at is not None:
                await self._revoke_replayed(grant.grant_id, "refresh token used twice")
            raise OAuthError("invalid_grant", "The refresh token is not valid.")
        return tokens

    def _issue(self, grant: Grant, client: OAuthClient, now: datetime) -> tuple[Issue, TokenSet]:
        access = new_secret(SecretKind.ACCESS_TOKEN)
        refresh = new_secret(SecretKind.REFRESH_TOKEN) if client.may_refresh else None
        issue = Issue(
            grant=grant,
            access_key=digest(access),
            access=_token(TokenKind.ACCESS, grant, now, ACCESS_TOKEN_LIFETIME),
            refresh_key=digest(refresh) if refresh else None,
            refresh=_token(TokenKind.REFRESH, grant, now, REFRESH_TOKEN_LIFETIME) if refresh else None,
        )
        tokens = TokenSet(
            access_token=access,
            expires_in=int(ACCESS_TOKEN_LIFETIME.total_seconds()),
            scope=" ".join(grant.scopes),
            refresh_token=refresh,
        )
        return issue, tokens

    async def _revoke_replayed(self, grant_id: str, because: str) -> None:
        if await self.store.revoke_grant(grant_id, self._clock.now(), because):
            logger.warning("revoked OAuth grant %s: %s", grant_id, because)
        raise OAuthError("invalid_grant", f"This grant was revoked: {because}. Authorize again.")

    def _target(self, resource: str | None) -> str:
        """RFC 8707: a token is for this server's MCP endpoint, and only asked for as such."""
        if resource is not None and canonical_resource(resource) != canonical_resource(self.resource):
            raise OAuthError(
                "invalid_target",
                f"This server issues tokens for {self.resource} only, not for {shown(resource)}.",
            )
        return self.resource

    # ------------------------------------------------------------ using and revoking tokens

    async def grant_for_access_token(self, token: str) -> Grant | None:
        """The grant an access token acts under, or None when it is not one this server issued for this
        resource, or it expired, or its grant was revoked or ended."""
        if not is_kind(token, SecretKind.ACCESS_TOKEN):
            return None
        found = await self.store.get_token(digest(token))
        now = self._clock.now()
        if found is None or found.kind is not TokenKind.ACCESS or now >= found.expires_at:
            return None
        grant = await self.store.get_grant(found.grant_id)
        if grant is None or not grant.is_active(now):
            return None
        if canonical_resource(grant.resource) != canonical_resource(self.resource):
            return None
        return grant

    async def revoke_token(self, client: OAuthClient, token: str) -> None:
        """RFC 7009: revoking an access or a refresh token revokes its grant. Unknown tokens, and tokens of
        other clients, are ignored (the endpoint answers 200 either way)."""
        found = await self.store.get_token(digest(token))
        if found is not None and found.client_id == client.client_id:
            await self.store.revoke_grant(found.grant_id, self._clock.now(), "revoked by the client")

    async def grants(self, caller: Caller) -> list[Grant]:
        """The caller's active grants; every client's for the admin."""
        now = self._clock.now()
        return [grant for grant in await self.store.list_grants(caller.scope) if grant.is_active(now)]

    async def revoke_grant(self, caller: Caller, grant_id: str) -> Grant | None:
        """None when the caller has no such grant (another owner's reads as missing)."""
        grant = await self.store.get_grant(grant_id)
        if grant is None or not caller.can_see(grant.owner):
            return None
        because = "revoked by the admin" if caller.owner != grant.owner else "revoked by its owner"
        await self.store.revoke_grant(grant_id, self._clock.now(), because)
        return await self.store.get_grant(grant_id)


def _token(kind: TokenKind, grant: Grant, now: datetime, lifetime: timedelta) -> IssuedToken:
    return IssuedToken(
        kind=kind,
        grant_id=grant.grant_id,
        client_id=grant.client_id,
        issued_at=now,
        expires_at=now + lifetime,
    )


def _checked_redirect_uris(uris: Sequence[str]) -> tuple[str, ...]:
    if not uris:
        raise OAuthError("invalid_redirect_uri", "At least one redirect URI is required.")
    checked = []
    for uri in uris:
        try:
            normalized = normalize_url(uri)
        except ValueError as exc:
            raise OAuthError("invalid_redirect_uri", str(exc)) from None
        check_redirect_uri(normalized)
        checked.append(normalized)
    return tuple(checked)


def _client_from_document(
    url: str, body: dict[str, object], now: datetime, max_age_seconds: int | None
) -> OAuthClient:
    """Check a fetched Client ID Metadata Document and make a client of it."""
    try:
        document = ClientMetadataDocument.model_validate(body)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise OAuthError(
            "invalid_client", f"The client metadata document {url} is not valid: {problems}."
        ) from None
    problem = None
    if document.client_id != url:
        problem = f"names client_id {shown(document.client_id)}, not its own URL"
    elif document.token_endpoint_auth_method != ClientAuthMethod.NONE.value:
        problem = (
            f"asks for token_endpoint_auth_method {shown(document.token_endpoint_auth_method)}; "
            "clients known by a metadata document use none (with PKCE)"
        )
    elif AUTHORIZATION_CODE_GRANT not in document.grant_types or "code" not in document.response_types:
        problem = "does not ask for the authorization_code grant and the code response type"
    if problem:
        raise OAuthError("invalid_client", f"The client metadata document {url} {problem}.")
    try:
        redirect_uris = _checked_redirect_uris(document.redirect_uris)
    except OAuthError as exc:
        raise OAuthError("invalid_client", f"The client metadata document {url}: {exc.description}") from None
    cache_for = CLIENT_DOCUMENT_MAX_AGE
    if max_age_seconds is not None:
        cache_for = min(cache_for, timedelta(seconds=max(0, max_age_seconds)))
    return OAuthClient(
        client_id=url,
        client_name=document.client_name,
        client_uri=document.client_uri,
        redirect_uris=redirect_uris,
        grant_types=tuple(grant for grant in document.grant_types if grant in SUPPORTED_GRANT_TYPES),
        auth_method=ClientAuthMethod.NONE,
        source=ClientSource.METADATA_DOCUMENT,
        created_at=now,
        expires_at=now + cache_for,
    )
