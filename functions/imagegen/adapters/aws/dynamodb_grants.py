"""DynamoDB GrantStore: one table, one item per OAuth record, every once-only step a conditional write.

Each item keeps the record as JSON (`body`) under `pk` = `<what>#<id or digest>`. What changes after a
record is written lives in attributes of its own beside the body, so that a condition can test it and a
write need not read first: `redeemed_by` on a code, `rotated_at` on a refresh token, `revoked_at` and
`revoked_because` on a grant. Redeeming a code and rotating a refresh token are transactions whose first
item carries the once-only condition: of two concurrent attempts DynamoDB lets exactly one through.
Items that expire carry `expires_at` for DynamoDB's TTL, which deletes late; readers check expiry
themselves.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import ClientError
from pydantic import BaseModel

from imagegen.adapters.aws import schema
from imagegen.adapters.aws.dynamodb_errors import (
    ConditionFailed,
    call_off_loop,
    error_code,
    transact_write,
    translate_errors,
)
from imagegen.domain.cursor import sort_key
from imagegen.domain.oauth import AuthorizationCode, ConsentRequest, Grant, Issue, IssuedToken, OAuthClient

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef, TransactWriteItemTypeDef

PK = schema.OAUTH_PARTITION_KEY
KIND_GRANT = "grant"
# Written after the record: see the module docstring.
REDEEMED_BY = "redeemed_by"
ROTATED_AT = "rotated_at"
REVOKED_AT = "revoked_at"
REVOKED_BECAUSE = "revoked_because"

Item = dict[str, Any]
RecordT = TypeVar("RecordT", bound=BaseModel)


class DynamoDBGrantStore:
    def __init__(self, table: str, client: DynamoDBClient) -> None:
        self._table = table
        self._client = client

    # ------------------------------------------------------------ plumbing

    async def _transact(self, items: list[TransactWriteItemTypeDef]) -> bool:
        try:
            await asyncio.to_thread(transact_write, self._client, items)
        except ConditionFailed:
            return False
        return True

    async def _conditional_update(self, key: str, update: str, condition: str, values: Item) -> bool:
        def call() -> bool:
            try:
                self._client.update_item(
                    TableName=self._table,
                    Key={PK: {"S": key}},
                    UpdateExpression=update,
                    ConditionExpression=condition,
                    ExpressionAttributeValues=values,
                )
            except ClientError as exc:
                if error_code(exc) == "ConditionalCheckFailedException":
                    return False
                raise
            return True

        return await asyncio.to_thread(translate_errors, call)

    async def _get(self, key: str) -> Item | None:
        response = await call_off_loop(
            self._client.get_item, TableName=self._table, Key={PK: {"S": key}}, ConsistentRead=True
        )
        return response.get("Item")

    async def _get_record(self, key: str, model: type[RecordT]) -> RecordT | None:
        item = await self._get(key)
        return model.model_validate_json(item["body"]["S"]) if item else None

    async def _put(self, item: Item) -> None:
        await call_off_loop(self._client.put_item, TableName=self._table, Item=item)

    # ------------------------------------------------------------ clients, consents, codes

    async def save_client(self, client: OAuthClient) -> None:
        await self._put(_item(f"client#{client.client_id}", client, client.expires_at))

    async def get_client(self, client_id: str) -> OAuthClient | None:
        return await self._get_record(f"client#{client_id}", OAuthClient)

    async def save_consent(self, key: str, consent: ConsentRequest) -> None:
        await self._put(_item(f"consent#{key}", consent, consent.expires_at))

    async def get_consent(self, key: str) -> ConsentRequest | None:
        return await self._get_record(f"consent#{key}", ConsentRequest)

    async def take_consent(self, key: str) -> ConsentRequest | None:
        response = await call_off_loop(
            self._client.delete_item,
            TableName=self._table,
            Key={PK: {"S": f"consent#{key}"}},
            ReturnValues="ALL_OLD",
        )
        item = response.get("Attributes")
        return ConsentRequest.model_validate_json(item["body"]["S"]) if item else None

    async def save_code(self, key: str, code: AuthorizationCode) -> None:
        await self._put(_item(f"code#{key}", code, code.expires_at))

    async def get_code(self, key: str) -> AuthorizationCode | None:
        item = await self._get(f"code#{key}")
        if item is None:
            return None
        code = AuthorizationCode.model_validate_json(item["body"]["S"])
        if REDEEMED_BY in item:
            code = code.model_copy(update={"redeemed_by_grant": item[REDEEMED_BY]["S"]})
        return code

    async def redeem_code(self, key: str, issue: Issue) -> bool:
        redeem: TransactWriteItemTypeDef = {
            "Update": {
                "TableName": self._table,
                "Key": {PK: {"S": f"code#{key}"}},
                "UpdateExpression": f"SET {REDEEMED_BY} = :grant",
                "ConditionExpression": f"attribute_exists({PK}) AND attribute_not_exists({REDEEMED_BY})",
                "ExpressionAttributeValues": {":grant": {"S": issue.grant.grant_id}},
            }
        }
        new_grant: TransactWriteItemTypeDef = {
            "Put": {
                "TableName": self._table,
                "Item": _grant_item(issue.grant),
                "ConditionExpression": f"attribute_not_exists({PK})",
            }
        }
        return await self._transact([redeem, new_grant, *self._token_puts(issue)])

    # ------------------------------------------------------------ tokens and grants

    async def get_token(self, key: str) -> IssuedToken | None:
        item = await self._get(f"token#{key}")
        if item is None:
            return None
        token = IssuedToken.model_validate_json(item["body"]["S"])
        if ROTATED_AT in item:
            token = token.model_copy(update={"rotated_at": datetime.fromisoformat(item[ROTATED_AT]["S"])})
        return token

    async def rotate_refresh_token(self, key: str, issue: Issue) -> bool:
        rotate: TransactWriteItemTypeDef = {
            "Update": {
                "TableName": self._table,
                "Key": {PK: {"S": f"token#{key}"}},
                "UpdateExpression": f"SET {ROTATED_AT} = :at",
                "ConditionExpression": f"attribute_exists({PK}) AND attribute_not_exists({ROTATED_AT})",
                "ExpressionAttributeValues": {":at": {"S": issue.access.issued_at.isoformat()}},
            }
        }
        renewed_grant: TransactWriteItemTypeDef = {
            "Put": {
                "TableName": self._table,
                "Item": _grant_item(issue.grant),
                "ConditionExpression": f"attribute_exists({PK}) AND attribute_not_exists({REVOKED_AT})",
            }
        }
        return await self._transact([rotate, renewed_grant, *self._token_puts(issue)])

    def _token_puts(self, issue: Issue) -> list[TransactWriteItemTypeDef]:
        puts: list[TransactWriteItemTypeDef] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": _item(f"token#{issue.access_key}", issue.access, issue.access.expires_at),
                }
            }
        ]
        if issue.refresh_key is not None and issue.refresh is not None:
            refresh = _item(f"token#{issue.refresh_key}", issue.refresh, issue.refresh.expires_at)
            puts.append({"Put": {"TableName": self._table, "Item": refresh}})
        return puts

    async def get_grant(self, grant_id: str) -> Grant | None:
        item = await self._get(f"grant#{grant_id}")
        return _grant_from(item) if item else None

    async def revoke_grant(self, grant_id: str, now: datetime, because: str) -> bool:
        return await self._conditional_update(
            f"grant#{grant_id}",
            f"SET {REVOKED_AT} = :at, {REVOKED_BECAUSE} = :because",
            f"attribute_exists({PK}) AND attribute_not_exists({REVOKED_AT})",
            {":at": {"S": now.isoformat()}, ":because": {"S": because}},
        )

    async def list_grants(self, owner: str | None) -> list[Grant]:
        index = schema.GSI_BY_KIND if owner is None else schema.GSI_BY_OWNER
        attribute = schema.OAUTH_INDEXES[index][0]
        query: QueryInputTypeDef = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": "#partition = :value",
            "ExpressionAttributeNames": {"#partition": attribute},
            "ExpressionAttributeValues": {":value": {"S": KIND_GRANT if owner is None else owner}},
            "ScanIndexForward": False,
        }
        grants: list[Grant] = []
        while True:
            page = await call_off_loop(self._client.query, **query)
            grants += [_grant_from(item) for item in page.get("Items", [])]
            last = page.get("LastEvaluatedKey")
            if not last:
                return grants
            query["ExclusiveStartKey"] = last

    async def forget_expired(self, now: datetime) -> None:
        """DynamoDB's TTL deletes expired items by itself."""


def _item(key: str, record: BaseModel, expires_at: datetime | None) -> Item:
    item: Item = {PK: {"S": key}, "body": {"S": record.model_dump_json()}}
    if expires_at is not None:
        # Rounded up: TTL must never delete a record before the moment it expires.
        item[schema.TTL_ATTRIBUTE] = {"N": str(math.ceil(expires_at.timestamp()))}
    return item


def _grant_item(grant: Grant) -> Item:
    item = _item(f"grant#{grant.grant_id}", grant, grant.expires_at)
    item["owner"] = {"S": grant.owner}
    item["kind"] = {"S": KIND_GRANT}
    item[schema.SORT_ATTRIBUTE] = {"S": sort_key(grant.created_at, grant.grant_id)}
    return item


def _grant_from(item: Mapping[str, Any]) -> Grant:
    grant = Grant.model_validate_json(item["body"]["S"])
    if REVOKED_AT in item:
        grant = grant.model_copy(
            update={
                "revoked_at": datetime.fromisoformat(item[REVOKED_AT]["S"]),
                "revoked_because": item.get(REVOKED_BECAUSE, {}).get("S"),
            }
        )
    return grant
