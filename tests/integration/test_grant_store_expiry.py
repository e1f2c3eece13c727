"""How each grant store gets rid of what expired, which the contract leaves to the adapter: SQLite
deletes when asked, DynamoDB's TTL deletes by itself, so every expiring item must carry `expires_at`."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3

from imagegen.adapters.aws import schema
from imagegen.adapters.sqlite_grants import SqliteGrantStore
from tests.support.aws import OAUTH_TABLE, REGION, dynamodb_grant_store
from tests.support.builders import T0
from tests.support.oauth_records import make_client, make_code, make_consent, make_grant, make_issue


async def test_sqlite_forgets_expired_records_when_asked(tmp_path: Path) -> None:
    store = SqliteGrantStore(tmp_path / "oauth.db")
    try:
        await store.save_consent("c" * 64, make_consent())
        await store.save_code("k" * 64, make_code())
        await store.save_client(make_client())

        await store.forget_expired(T0 + timedelta(minutes=11))

        assert await store.get_consent("c" * 64) is None
        assert await store.get_code("k" * 64) is None
        assert await store.get_client("client-1") is not None  # a registration does not expire
    finally:
        store.close()


async def test_dynamodb_items_carry_their_expiry_for_ttl_and_only_grants_are_indexed() -> None:
    async with dynamodb_grant_store() as store:
        client = boto3.client("dynamodb", region_name=REGION)  # the table as DynamoDB sees it
        await store.save_client(make_client())
        consent = make_consent()
        await store.save_consent("c" * 64, consent)
        await store.save_code("k" * 64, make_code())
        grant = make_grant()
        issue, _, _ = make_issue(grant)
        await store.redeem_code("k" * 64, issue)
        ttl = client.describe_time_to_live(TableName=OAUTH_TABLE)["TimeToLiveDescription"]
        by_kind: dict[str, list[dict[str, Any]]] = {}
        for item in client.scan(TableName=OAUTH_TABLE)["Items"]:
            by_kind.setdefault(item[schema.OAUTH_PARTITION_KEY]["S"].partition("#")[0], []).append(item)

    def expiry(item: dict[str, Any]) -> int | None:
        value = item.get(schema.TTL_ATTRIBUTE)
        return int(value["N"]) if value else None

    tokens = [token for token in (issue.access, issue.refresh) if token is not None]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": schema.TTL_ATTRIBUTE}
    assert [expiry(item) for item in by_kind["client"]] == [None]
    assert [expiry(item) for item in by_kind["consent"]] == [math.ceil(consent.expires_at.timestamp())]
    assert [expiry(item) for item in by_kind["grant"]] == [math.ceil(grant.expires_at.timestamp())]
    assert sorted(expiry(item) for item in by_kind["token"]) == sorted(
        math.ceil(token.expires_at.timestamp()) for token in tokens
    )
    indexed = {kind for kind, items in by_kind.items() for item in items if {"owner", "kind"} & set(item)}
    assert indexed == {"grant"}
