"""GrantStore contract: every adapter (SQLite, DynamoDB on moto) must behave exactly like this.

What must happen once happens once: a consent is taken once, a code redeemed once, a refresh token
rotated once, even when the calls race; and a revoked grant cannot be renewed.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from imagegen.domain.oauth import TokenKind
from imagegen.ports import GrantStore
from tests.support.builders import T0
from tests.support.oauth_records import make_client, make_code, make_consent, make_grant, make_issue

RACERS = 8


async def test_a_saved_client_reads_back_and_a_new_copy_replaces_it(grant_store: GrantStore) -> None:
    client = make_client("https://app.example/client.json")
    await grant_store.save_client(client)
    fresher = client.model_copy(update={"client_name": "Renamed", "expires_at": T0 + timedelta(minutes=5)})

    before = await grant_store.get_client(client.client_id)
    await grant_store.save_client(fresher)

    assert before == client
    assert await grant_store.get_client(client.client_id) == fresher


async def test_unknown_records_read_as_none(grant_store: GrantStore) -> None:
    assert await grant_store.get_client("nobody") is None
    assert await grant_store.get_consent("0" * 64) is None
    assert await grant_store.take_consent("0" * 64) is None
    assert await grant_store.get_code("0" * 64) is None
    assert await grant_store.get_token("0" * 64) is None
    assert await grant_store.get_grant("grant_missing") is None
    assert not await grant_store.revoke_grant("grant_missing", T0, "test")


async def test_a_consent_is_taken_once_even_by_racing_callers(grant_store: GrantStore) -> None:
    consent = make_consent()
    await grant_store.save_consent("c" * 64, consent)

    assert await grant_store.get_consent("c" * 64) == consent
    taken = await asyncio.gather(*(grant_store.take_consent("c" * 64) for _ in range(RACERS)))

    assert [found for found in taken if found is not None] == [consent]
    assert await grant_store.get_consent("c" * 64) is None


async def test_a_redeemed_code_records_its_grant_and_writes_the_grant_and_tokens(
    grant_store: GrantStore,
) -> None:
    await grant_store.save_code("k" * 64, make_code())
    grant = make_grant()
    issue, _, _ = make_issue(grant)

    redeemed = await grant_store.redeem_code("k" * 64, issue)

    assert redeemed
    code = await grant_store.get_code("k" * 64)
    assert code is not None and code.redeemed_by_grant == grant.grant_id
    assert await grant_store.get_grant(grant.grant_id) == grant
    assert await grant_store.get_token(issue.access_key) == issue.access
    assert await grant_store.get_token(issue.refresh_key or "") == issue.refresh


async def test_a_code_is_redeemed_once_even_by_racing_exchanges(grant_store: GrantStore) -> None:
    await grant_store.save_code("k" * 64, make_code())
    issues = [make_issue(make_grant())[0] for _ in range(RACERS)]

    outcomes = await asyncio.gather(*(grant_store.redeem_code("k" * 64, issue) for issue in issues))

    assert sum(outcomes) == 1
    winner = issues[outcomes.index(True)]
    for issue in issues:
        stored = await grant_store.get_grant(issue.grant.grant_id)
        assert (stored is not None) == (issue is winner)
        assert (await grant_store.get_token(issue.access_key) is not None) == (issue is winner)
    code = await grant_store.get_code("k" * 64)
    assert code is not None and code.redeemed_by_grant == winner.grant.grant_id


async def test_an_unknown_code_is_not_redeemed_and_nothing_is_written(grant_store: GrantStore) -> None:
    issue, _, _ = make_issue(make_grant())

    assert not await grant_store.redeem_code("u" * 64, issue)
    assert await grant_store.get_grant(issue.grant.grant_id) is None
    assert await grant_store.get_token(issue.access_key) is None


async def test_a_refresh_token_rotates_once_even_when_raced(grant_store: GrantStore) -> None:
    grant = make_grant()
    await grant_store.save_code("k" * 64, make_code())
    first, _, _ = make_issue(grant)
    await grant_store.redeem_code("k" * 64, first)
    later = T0 + timedelta(hours=2)
    renewed = grant.model_copy(update={"refreshed_at": later, "expires_at": later + timedelta(days=30)})
    rotations = [make_issue(renewed, at=later)[0] for _ in range(RACERS)]

    outcomes = await asyncio.gather(
        *(grant_store.rotate_refresh_token(first.refresh_key or "", issue) for issue in rotations)
    )

    assert sum(outcomes) == 1
    winner = rotations[outcomes.index(True)]
    old = await grant_store.get_token(first.refresh_key or "")
    assert old is not None and old.rotated_at == later
    assert await grant_store.get_grant(grant.grant_id) == renewed
    for issue in rotations:
        assert (await grant_store.get_token(issue.access_key) is not None) == (issue is winner)
    new_refresh = await grant_store.get_token(winner.refresh_key or "")
    assert (
        new_refresh is not None and new_refresh.kind is TokenKind.REFRESH and new_refresh.rotated_at is None
    )


async def test_a_revoked_grant_is_not_renewed(grant_store: GrantStore) -> None:
    grant = make_grant()
    await grant_store.save_code("k" * 64, make_code())
    first, _, _ = make_issue(grant)
    await grant_store.redeem_code("k" * 64, first)
    await grant_store.revoke_grant(grant.grant_id, T0 + timedelta(minutes=1), "revoked by its owner")
    later = T0 + timedelta(hours=2)
    rotation, _, _ = make_issue(grant.model_copy(update={"refreshed_at": later}), at=later)

    rotated = await grant_store.rotate_refresh_token(first.refresh_key or "", rotation)

    assert not rotated
    assert await grant_store.get_token(rotation.access_key) is None
    old = await grant_store.get_token(first.refresh_key or "")
    assert old is not None and old.rotated_at is None
    stored = await grant_store.get_grant(grant.grant_id)
    assert stored is not None and stored.revoked_at is not None and stored.refreshed_at is None


async def test_a_grant_is_revoked_once_with_its_reason(grant_store: GrantStore) -> None:
    grant = make_grant()
    await grant_store.save_code("k" * 64, make_code())
    await grant_store.redeem_code("k" * 64, make_issue(grant)[0])
    at = T0 + timedelta(minutes=3)

    first = await grant_store.revoke_grant(grant.grant_id, at, "refresh token used twice")
    second = await grant_store.revoke_grant(grant.grant_id, at + timedelta(minutes=1), "revoked by its owner")

    assert (first, second) == (True, False)
    stored = await grant_store.get_grant(grant.grant_id)
    assert stored is not None
    assert (stored.revoked_at, stored.revoked_because) == (at, "refresh token used twice")


async def test_grants_list_by_owner_or_all_newest_first(grant_store: GrantStore) -> None:
    grants = [
        make_grant(owner=owner, created_at=T0 + timedelta(minutes=minute))
        for minute, owner in enumerate(["alice", "bob", "alice"])
    ]
    for number, grant in enumerate(grants):
        await grant_store.save_code(f"{number}" * 64, make_code(owner=grant.owner))
        await grant_store.redeem_code(f"{number}" * 64, make_issue(grant)[0])
    await grant_store.revoke_grant(grants[0].grant_id, T0 + timedelta(hours=1), "revoked by its owner")

    alices = await grant_store.list_grants("alice")
    everyone = await grant_store.list_grants(None)

    assert [grant.grant_id for grant in alices] == [grants[2].grant_id, grants[0].grant_id]
    assert alices[1].revoked_at is not None
    assert [grant.grant_id for grant in everyone] == [grant.grant_id for grant in reversed(grants)]
    assert await grant_store.list_grants("carol") == []


async def test_forgetting_expired_records_keeps_everything_still_valid(grant_store: GrantStore) -> None:
    await grant_store.save_consent("c" * 64, make_consent())
    await grant_store.save_code("k" * 64, make_code())
    grant = make_grant()
    await grant_store.save_code("g" * 64, make_code())
    issue, _, _ = make_issue(grant)
    await grant_store.redeem_code("g" * 64, issue)

    await grant_store.forget_expired(T0 + timedelta(minutes=1))

    assert await grant_store.get_consent("c" * 64) is not None
    assert await grant_store.get_code("k" * 64) is not None
    assert await grant_store.get_token(issue.access_key) is not None
    assert await grant_store.get_grant(grant.grant_id) is not None
