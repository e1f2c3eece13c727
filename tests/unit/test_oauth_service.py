"""The authorization server's decisions, on the real SQLite grant store with a clock the test moves.

Expiry is tested here, where time can be moved: codes after 5 minutes, access tokens after an hour,
refresh tokens 30 days after their last use, consent pages after 10 minutes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

from imagegen.adapters.sqlite_grants import SqliteGrantStore
from imagegen.domain.caller import Caller
from imagegen.domain.oauth import ClientDocumentUnavailable, OAuthClient, OAuthError, TokenSet
from imagegen.ports import ClientDocument
from imagegen.services.oauth import OAuthService
from tests.support.builders import T0, ManualClock
from tests.support.oauth_records import CHALLENGE, REDIRECT_URI, RESOURCE, VERIFIER

DOCUMENT_URL = "https://app.example/oauth/client.json"


@dataclass
class ScriptedDocuments:
    """The ClientDocumentSource port, answering from a dict; counts fetches."""

    documents: dict[str, dict[str, object] | Exception] = field(default_factory=dict)
    max_age_seconds: int | None = None
    fetches: list[str] = field(default_factory=list)

    async def fetch(self, url: str) -> ClientDocument:
        self.fetches.append(url)
        answer = self.documents.get(url, ClientDocumentUnavailable("answered 404"))
        if isinstance(answer, Exception):
            raise answer
        return ClientDocument(body=answer, max_age_seconds=self.max_age_seconds)


@dataclass
class Server:
    oauth: OAuthService
    store: SqliteGrantStore
    clock: ManualClock
    documents: ScriptedDocuments

    async def register(self, client_id: str = "client-1", *, secret: str | None = None) -> OAuthClient:
        return await self.oauth.register_client(
            client_id=client_id,
            client_name=f"App {client_id}",
            client_uri=None,
            redirect_uris=[REDIRECT_URI],
            grant_types=["authorization_code", "refresh_token"],
            auth_method="client_secret_post" if secret else "none",
            secret=secret,
        )

    async def code(
        self,
        client: OAuthClient,
        *,
        owner: str = "alice",
        challenge: str = CHALLENGE,
        resource: str | None = None,
    ) -> str:
        consent = await self.oauth.begin_authorization(
            client,
            redirect_uri=REDIRECT_URI,
            redirect_uri_explicit=True,
            code_challenge=challenge,
            state="xyz",
            resource=resource,
        )
        redirect = await self.oauth.approve(consent, owner)
        assert redirect.code is not None
        return redirect.code

    async def tokens(self, client: OAuthClient, owner: str = "alice") -> TokenSet:
        return await self.oauth.exchange_code(
            client,
            code=await self.code(client, owner=owner),
            code_verifier=VERIFIER,
            redirect_uri=REDIRECT_URI,
            resource=RESOURCE,
        )


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    store = SqliteGrantStore(tmp_path / "oauth.db")
    clock = ManualClock(T0)
    documents = ScriptedDocuments()
    yield Server(OAuthService(store, documents, clock, resource=RESOURCE), store, clock, documents)
    store.close()


async def refused(error: str, action: Awaitable[object]) -> OAuthError:
    with pytest.raises(OAuthError) as caught:
        await action
    assert caught.value.error == error, caught.value.description
    return caught.value


# ---------------------------------------------------------------- the whole flow


async def test_a_consented_code_becomes_tokens_that_act_as_the_consenting_owner(server: Server) -> None:
    client = await server.register()

    tokens = await server.tokens(client, owner="alice")

    grant = await server.oauth.grant_for_access_token(tokens.access_token)
    assert grant is not None and grant.owner == "alice" and grant.client_id == client.client_id
    assert tokens.expires_in == 3600 and tokens.scope == "imagegen" and tokens.refresh_token
    assert grant.resource == RESOURCE


async def test_the_consent_request_is_shown_until_decided_and_decided_once(server: Server) -> None:
    client = await server.register()
    consent = await server.oauth.begin_authorization(
        client,
        redirect_uri=REDIRECT_URI,
        redirect_uri_explicit=True,
        code_challenge=CHALLENGE,
        state="xyz",
        resource=None,
    )

    view = await server.oauth.consent(consent)
    denied = await server.oauth.deny(consent)

    assert view is not None and view.client.client_name == "App client-1"
    assert (denied.redirect_uri, denied.state, denied.code) == (REDIRECT_URI, "xyz", None)
    assert await server.oauth.consent(consent) is None
    await refused("invalid_request", server.oauth.approve(consent, "alice"))


async def test_a_consent_page_left_open_for_ten_minutes_expires(server: Server) -> None:
    client = await server.register()
    consent = await server.oauth.begin_authorization(
        client,
        redirect_uri=REDIRECT_URI,
        redirect_uri_explicit=True,
        code_challenge=CHALLENGE,
        state=None,
        resource=None,
    )
    server.clock.advance(600)

    assert await server.oauth.consent(consent) is None
    await refused("invalid_request", server.oauth.approve(consent, "alice"))


# ---------------------------------------------------------------- codes


async def test_a_code_expires_after_five_minutes(server: Server) -> None:
    client = await server.register()
    code = await server.code(client)
    server.clock.advance(300)

    await refused(
        "invalid_grant",
        server.oauth.exchange_code(
            client, code=code, code_verifier=VERIFIER, redirect_uri=REDIRECT_URI, resource=None
        ),
    )


async def test_a_wrong_verifier_is_refused_and_leaves_the_code_usable(server: Server) -> None:
    client = await server.register()
    code = await server.code(client)

    await refused(
        "invalid_grant",
        server.oauth.exchange_code(
            client, code=code, code_verifier="x" * 43, redirect_uri=REDIRECT_URI, resource=None
        ),
    )
    tokens = await server.oauth.exchange_code(
        client, code=code, code_verifier=VERIFIER, redirect_uri=REDIRECT_URI, resource=None
    )

    assert await server.oauth.grant_for_access_token(tokens.access_token) is not None


async def test_a_replayed_code_is_refused_and_revokes_what_it_granted(server: Server) -> None:
    client = await server.register()
    code = await server.code(client)
    exchange = {"code": code, "code_verifier": VERIFIER, "redirect_uri": REDIRECT_URI, "resource": None}
    first = await server.oauth.exchange_code(client, **exchange)  # type: ignore[arg-type]

    error = await refused("invalid_grant", server.oauth.exchange_code(client, **exchange))  # type: ignore[arg-type]

    assert "used twice" in error.description
    assert await server.oauth.grant_for_access_token(first.access_token) is None


async def test_another_clients_code_reads_as_unknown_and_stays_usable_by_its_client(server: Server) -> None:
    owner_client, other_client = await server.register("client-1"), await server.register("client-2")
    code = await server.code(owner_client)

    await refused(
        "invalid_grant",
        server.oauth.exchange_code(
            other_client, code=code, code_verifier=VERIFIER, redirect_uri=REDIRECT_URI, resource=None
        ),
    )
    tokens = await server.oauth.exchange_code(
        owner_client, code=code, code_verifier=VERIFIER, redirect_uri=REDIRECT_URI, resource=None
    )

    assert tokens.access_token


async def test_the_redirect_uri_must_be_repeated_exactly(server: Server) -> None:
    client = await server.register()
    code = await server.code(client)

    await refused(
        "invalid_grant",
        server.oauth.exchange_code(
            client, code=code, code_verifier=VERIFIER, redirect_uri="http://127.0.0.1:1/other", resource=None
        ),
    )
    await refused(
        "invalid_request",
        server.oauth.exchange_code(
            client, code=code, code_verifier=VERIFIER, redirect_uri=None, resource=None
        ),
    )


async def test_a_loopback_redirect_on_another_port_is_the_registered_one(server: Server) -> None:
    client = await server.register()
    consent = await server.oauth.begin_authorization(
        client,
        redirect_uri="http://127.0.0.1:50999/callback",
        redirect_uri_explicit=True,
        code_challenge=CHALLENGE,
        state=None,
        resource=None,
    )

    redirect = await server.oauth.approve(consent, "alice")

    assert redirect.redirect_uri == "http://127.0.0.1:50999/callback"


async def test_only_s256_challenges_are_accepted(server: Server) -> None:
    client = await server.register()

    await refused("invalid_request", server.code(client, challenge=VERIFIER[:20]))


# ---------------------------------------------------------------- resource indicators


async def test_a_token_is_only_asked_for_this_servers_mcp_endpoint(server: Server) -> None:
    client = await server.register()

    await refused("invalid_target", server.code(client, resource="https://elsewhere.example/mcp"))
    code = await server.code(client, resource="HTTPS://MCP.example.test/mcp/")
    await refused(
        "invalid_target",
        server.oauth.exchange_code(
            client,
            code=code,
            code_verifier=VERIFIER,
            redirect_uri=REDIRECT_URI,
            resource="https://mcp.example.test/other",
        ),
    )


async def test_a_token_minted_for_another_resource_is_refused_here(server: Server) -> None:
    elsewhere = OAuthService(server.store, server.documents, server.clock, resource="https://old.example/mcp")
    client = await server.register()
    consent = await elsewhere.begin_authorization(
        client,
        redirect_uri=REDIRECT_URI,
        redirect_uri_explicit=True,
        code_challenge=CHALLENGE,
        state=None,
        resource=None,
    )
    code = (await elsewhere.approve(consent, "alice")).code or ""
    tokens = await elsewhere.exchange_code(
        client, code=code, code_verifier=VERIFIER, redirect_uri=REDIRECT_URI, resource=None
    )

    assert await elsewhere.grant_for_access_token(tokens.access_token) is not None
    assert await server.oauth.grant_for_access_token(tokens.access_token) is None


# ---------------------------------------------------------------- access and refresh tokens


async def test_an_access_token_expires_after_an_hour(server: Server) -> None:
    tokens = await server.tokens(await server.register())
    server.clock.advance(3599)
    assert await server.oauth.grant_for_access_token(tokens.access_token) is not None
    server.clock.advance(1)
    assert await server.oauth.grant_for_access_token(tokens.access_token) is None


async def test_refreshing_rotates_the_pair_and_a_reused_refresh_token_revokes_the_family(
    server: Server,
) -> None:
    client = await server.register()
    first = await server.tokens(client)
    server.clock.advance(3700)
    second = await server.oauth.refresh(client, refresh_token=first.refresh_token or "", resource=RESOURCE)

    assert second.refresh_token != first.refresh_token
    assert await server.oauth.grant_for_access_token(second.access_token) is not None

    error = await refused(
        "invalid_grant", server.oauth.refresh(client, refresh_token=first.refresh_token or "", resource=None)
    )

    assert "used twice" in error.description
    assert await server.oauth.grant_for_access_token(second.access_token) is None
    await refused(
        "invalid_grant", server.oauth.refresh(client, refresh_token=second.refresh_token or "", resource=None)
    )


async def test_a_refresh_token_presented_by_another_client_changes_nothing(server: Server) -> None:
    owner_client, other_client = await server.register("client-1"), await server.register("client-2")
    tokens = await server.tokens(owner_client)

    await refused(
        "invalid_grant",
        server.oauth.refresh(other_client, refresh_token=tokens.refresh_token or "", resource=None),
    )
    renewed = await server.oauth.refresh(
        owner_client, refresh_token=tokens.refresh_token or "", resource=None
    )

    assert await server.oauth.grant_for_access_token(renewed.access_token) is not None


async def test_a_refresh_token_unused_for_thirty_days_expires_and_use_slides_the_window(
    server: Server,
) -> None:
    client = await server.register()
    tokens = await server.tokens(client)
    server.clock.advance(timedelta(days=29).total_seconds())
    renewed = await server.oauth.refresh(client, refresh_token=tokens.refresh_token or "", resource=None)
    server.clock.advance(timedelta(days=29).total_seconds())
    again = await server.oauth.refresh(client, refresh_token=renewed.refresh_token or "", resource=None)
    server.clock.advance(timedelta(days=30).total_seconds())

    await refused(
        "invalid_grant", server.oauth.refresh(client, refresh_token=again.refresh_token or "", resource=None)
    )


async def test_a_client_without_the_refresh_grant_gets_no_refresh_token(server: Server) -> None:
    client = await server.oauth.register_client(
        client_id="codes-only",
        client_name=None,
        client_uri=None,
        redirect_uris=[REDIRECT_URI],
        grant_types=["authorization_code"],
        auth_method="none",
        secret=None,
    )

    tokens = await server.tokens(client)

    assert tokens.refresh_token is None
    await refused("unauthorized_client", server.oauth.refresh(client, refresh_token="ig_rt_x", resource=None))


async def test_revoking_a_token_ends_its_grant_but_another_clients_request_is_ignored(server: Server) -> None:
    owner_client, other_client = await server.register("client-1"), await server.register("client-2")
    tokens = await server.tokens(owner_client)

    await server.oauth.revoke_token(other_client, tokens.refresh_token or "")
    assert await server.oauth.grant_for_access_token(tokens.access_token) is not None
    await server.oauth.revoke_token(owner_client, tokens.refresh_token or "")

    assert await server.oauth.grant_for_access_token(tokens.access_token) is None


# ---------------------------------------------------------------- clients


async def test_a_confidential_client_must_present_its_secret(server: Server) -> None:
    await server.register("confidential", secret="s3cret-value-0123456789")

    await refused("invalid_client", server.oauth.authenticate_client("confidential", None))
    await refused("invalid_client", server.oauth.authenticate_client("confidential", "wrong"))
    await refused("invalid_client", server.oauth.authenticate_client("nobody", None))
    assert (await server.oauth.authenticate_client("confidential", "s3cret-value-0123456789")).client_id


async def test_registration_refuses_a_redirect_uri_that_is_not_https_or_loopback(server: Server) -> None:
    await refused(
        "invalid_redirect_uri",
        server.oauth.register_client(
            client_id="bad",
            client_name=None,
            client_uri=None,
            redirect_uris=["http://app.example/cb"],
            grant_types=["authorization_code"],
            auth_method="none",
            secret=None,
        ),
    )


def document(**changes: object) -> dict[str, object]:
    return {
        "client_id": DOCUMENT_URL,
        "client_name": "Example MCP Client",
        "redirect_uris": [REDIRECT_URI],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        **changes,
    }


async def test_a_metadata_document_client_is_fetched_once_and_cached(server: Server) -> None:
    server.documents.documents[DOCUMENT_URL] = document()

    first = await server.oauth.find_client(DOCUMENT_URL)
    second = await server.oauth.find_client(DOCUMENT_URL)
    server.clock.advance(601)
    await server.oauth.find_client(DOCUMENT_URL)

    assert first == second and first.client_name == "Example MCP Client" and first.may_refresh
    assert server.documents.fetches == [DOCUMENT_URL, DOCUMENT_URL]


async def test_a_metadata_document_says_no_cache_and_is_fetched_every_time(server: Server) -> None:
    server.documents.documents[DOCUMENT_URL] = document()
    server.documents.max_age_seconds = 0

    await server.oauth.find_client(DOCUMENT_URL)
    await server.oauth.find_client(DOCUMENT_URL)

    assert len(server.documents.fetches) == 2


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"client_id": "https://app.example/other.json"}, "not its own URL"),
        ({"token_endpoint_auth_method": "client_secret_post"}, "token_endpoint_auth_method"),
        ({"redirect_uris": ["http://app.example/cb"]}, "http for a host other than"),
        ({"redirect_uris": []}, "not valid"),
        ({"client_name": None}, "not valid"),
        ({"grant_types": ["client_credentials"]}, "authorization_code"),
    ],
)
async def test_an_unusable_metadata_document_is_an_invalid_client(
    server: Server, changes: dict[str, object], reason: str
) -> None:
    server.documents.documents[DOCUMENT_URL] = document(**changes)

    error = await refused("invalid_client", server.oauth.find_client(DOCUMENT_URL))

    assert reason in error.description


async def test_a_document_that_cannot_be_fetched_says_why_and_a_bad_url_is_not_fetched(
    server: Server,
) -> None:
    server.documents.documents[DOCUMENT_URL] = ClientDocumentUnavailable("took longer than 5 s")

    slow = await refused("invalid_client", server.oauth.find_client(DOCUMENT_URL))
    plain = await refused("invalid_client", server.oauth.find_client("http://app.example/client.json"))

    assert "took longer than 5 s" in slow.description
    assert "not an https URL" in plain.description
    assert server.documents.fetches == [DOCUMENT_URL]


async def test_a_document_client_uses_the_flow_with_pkce_and_no_secret(server: Server) -> None:
    server.documents.documents[DOCUMENT_URL] = document()
    client = await server.oauth.authenticate_client(DOCUMENT_URL, None)

    tokens = await server.tokens(client)

    assert await server.oauth.grant_for_access_token(tokens.access_token) is not None


# ---------------------------------------------------------------- grants


async def test_owners_see_their_grants_and_the_admin_sees_and_revokes_everyone_s(server: Server) -> None:
    client = await server.register()
    alice_tokens = await server.tokens(client, owner="alice")
    await server.tokens(client, owner="bob")
    alice, bob, admin = Caller(owner="alice"), Caller(owner="bob"), Caller(owner="ops", is_admin=True)
    alices_grant = (await server.oauth.grants(alice))[0]

    assert {grant.owner for grant in await server.oauth.grants(admin)} == {"alice", "bob"}
    assert [grant.owner for grant in await server.oauth.grants(bob)] == ["bob"]
    assert await server.oauth.revoke_grant(bob, alices_grant.grant_id) is None
    assert await server.oauth.grant_for_access_token(alice_tokens.access_token) is not None

    revoked = await server.oauth.revoke_grant(admin, alices_grant.grant_id)

    assert revoked is not None and revoked.revoked_because == "revoked by the admin"
    assert await server.oauth.grant_for_access_token(alice_tokens.access_token) is None
    assert await server.oauth.grants(alice) == []
