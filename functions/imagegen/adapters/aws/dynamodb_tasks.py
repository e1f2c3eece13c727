"""TaskStore on DynamoDB: task records in the jobs table under `task#<id>`, listed through the sparse
`by-task-owner` index and deleted by the table's TTL once their lifetime ends.

A task is read by GetItem with a consistent read, so it resolves on any Lambda environment the moment
`create_task` returns (the Tasks specification requires that before the task is handed out). Lists go
through the index, which is eventually consistent: a task created a moment ago may join the list a
moment later.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from imagegen.adapters.aws import schema
from imagegen.adapters.aws.dynamodb_errors import call_off_loop, error_code
from imagegen.domain.cursor import cursor_sort_key, encode_cursor, sort_key
from imagegen.domain.tasks import TaskPage, TaskRecord

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef

OWNER_ATTRIBUTE = "task_owner"
BODY_ATTRIBUTE = "body"
CANCELLED_ATTRIBUTE = "cancelled_at"


def task_key(task_id: str) -> str:
    return f"{schema.TASK_KEY_PREFIX}{task_id}"


class DynamoDBTaskStore:
    def __init__(self, jobs_table: str, client: DynamoDBClient) -> None:
        self._table = jobs_table
        self._client = client

    async def create_task(self, record: TaskRecord) -> None:
        await call_off_loop(
            self._client.put_item,
            TableName=self._table,
            Item={
                schema.PARTITION_KEY: {"S": task_key(record.task_id)},
                OWNER_ATTRIBUTE: {"S": record.owner},
                schema.SORT_ATTRIBUTE: {"S": sort_key(record.created_at, record.task_id)},
                schema.TTL_ATTRIBUTE: {"N": str(int(record.expires_at.timestamp()))},
                BODY_ATTRIBUTE: {"S": record.model_dump_json()},
            },
            ConditionExpression="attribute_not_exists(#pk)",
            ExpressionAttributeNames={"#pk": schema.PARTITION_KEY},
        )

    async def get_task(self, task_id: str, now: datetime) -> TaskRecord | None:
        response = await call_off_loop(
            self._client.get_item,
            TableName=self._table,
            Key={schema.PARTITION_KEY: {"S": task_key(task_id)}},
            ConsistentRead=True,
        )
        return _living(response.get("Item"), now)

    async def list_tasks(self, owner: str, now: datetime, limit: int, cursor: str | None) -> TaskPage:
        condition = "#owner = :owner"
        values: dict[str, Any] = {":owner": {"S": owner}, ":now": {"N": str(int(now.timestamp()))}}
        names = {"#owner": OWNER_ATTRIBUTE, "#expires": schema.TTL_ATTRIBUTE}
        if cursor:
            condition += " AND #sk < :cursor"
            names["#sk"] = schema.SORT_ATTRIBUTE
            values[":cursor"] = {"S": cursor_sort_key(cursor)}
        request: QueryInputTypeDef = {
            "TableName": self._table,
            "IndexName": schema.GSI_BY_TASK_OWNER,
            "KeyConditionExpression": condition,
            # TTL deletion lags by up to days: ended tasks are left out here, not by DynamoDB.
            "FilterExpression": "#expires > :now",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
        }
        records: list[TaskRecord] = []
        more = False
        while True:
            response = await call_off_loop(self._client.query, **request)
            for item in response.get("Items", []):
                record = _living(item, now)
                if record is None:
                    continue
                if len(records) == limit:
                    more = True
                    break
                records.append(record)
            last = response.get("LastEvaluatedKey")
            if more or last is None:
                break
            request["ExclusiveStartKey"] = last
        return TaskPage(
            records=records,
            next_cursor=encode_cursor(records[-1].created_at, records[-1].task_id) if more else None,
        )

    async def cancel_task(self, task_id: str, now: datetime) -> TaskRecord | None:
        def update() -> dict[str, Any] | None:
            try:
                response = self._client.update_item(
                    TableName=self._table,
                    Key={schema.PARTITION_KEY: {"S": task_key(task_id)}},
                    # The first cancellation's time stays: cancelling twice changes nothing.
                    UpdateExpression="SET #cancelled = if_not_exists(#cancelled, :now)",
                    ConditionExpression="attribute_exists(#pk) AND #expires > :epoch",
                    ExpressionAttributeNames={
                        "#pk": schema.PARTITION_KEY,
                        "#cancelled": CANCELLED_ATTRIBUTE,
                        "#expires": schema.TTL_ATTRIBUTE,
                    },
                    ExpressionAttributeValues={
                        ":now": {"S": now.isoformat()},
                        ":epoch": {"N": str(int(now.timestamp()))},
                    },
                    ReturnValues="ALL_NEW",
                )
            except ClientError as exc:
                if error_code(exc) == "ConditionalCheckFailedException":
                    return None  # no such task, or its lifetime has ended
                raise
            return dict(response.get("Attributes", {}))

        return _living(await call_off_loop(update), now)


def _living(item: dict[str, Any] | None, now: datetime) -> TaskRecord | None:
    if item is None or BODY_ATTRIBUTE not in item:
        return None
    record = TaskRecord.model_validate_json(item[BODY_ATTRIBUTE]["S"])
    if CANCELLED_ATTRIBUTE in item:
        record = record.model_copy(
            update={"cancelled_at": datetime.fromisoformat(item[CANCELLED_ATTRIBUTE]["S"])}
        )
    return None if record.expired(now) else record
