"""SQS JobQueue: one message per job, sent in batches of ten (the SQS batch limit).

Each message carries its client as `MessageGroupId`, which makes the standard queue a fair queue: when one
client builds a backlog, SQS delivers the other clients' messages first, so their jobs keep short queue
times. Standard-queue semantics (no ordering, no per-group serialisation) are otherwise unchanged.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from imagegen.domain.errors import StorageError
from imagegen.ports import QueuedMessage

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageAttributeValueTypeDef, SendMessageBatchRequestEntryTypeDef

SQS_BATCH_LIMIT = 10
CORRELATION_ATTRIBUTE = "correlation_id"


MAX_GROUP_ID_LENGTH = 128  # SQS: 1-128 characters of a-z, A-Z, 0-9 and !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~


def message_body(job_id: str) -> str:
    return json.dumps({"job_id": job_id}, separators=(",", ":"))


def message_group(client: str) -> str:
    """A client's fair-queue group: key names are already within SQS's alphabet; anything else (spaces,
    non-ASCII) is hashed so that every client still gets a group of its own."""
    if client and len(client) <= MAX_GROUP_ID_LENGTH and all(33 <= ord(char) <= 126 for char in client):
        return client
    return "client-" + hashlib.sha256(client.encode()).hexdigest()[:32]


class SqsJobQueue:
    """`correlation` names the request being served, if any; it travels as a message attribute so the
    worker's log lines can be matched to the API request that queued the job."""

    def __init__(
        self, queue_url: str, client: SQSClient, correlation: Callable[[], str | None] = lambda: None
    ) -> None:
        self._queue_url = queue_url
        self._client = client
        self._correlation = correlation

    async def enqueue(self, job_ids: Sequence[str], group: str) -> None:
        # Read here, on the task serving the request, where the correlation id is set.
        await asyncio.to_thread(self._enqueue_blocking, list(job_ids), group, self._correlation())

    async def redeliver(self, message: QueuedMessage, delay_seconds: float) -> bool:
        """Make a received message visible again after `delay_seconds` instead of the queue's timeout.

        Returns False when SQS refused (the message then reappears after the usual visibility timeout).
        """
        try:
            await asyncio.to_thread(
                self._client.change_message_visibility,
                QueueUrl=self._queue_url,
                ReceiptHandle=message.receipt,
                VisibilityTimeout=max(0, round(delay_seconds)),
            )
        except (ClientError, BotoCoreError):
            return False
        return True

    def _enqueue_blocking(self, job_ids: list[str], group: str, correlation_id: str | None) -> None:
        attributes: dict[str, MessageAttributeValueTypeDef] = (
            {CORRELATION_ATTRIBUTE: {"DataType": "String", "StringValue": correlation_id}}
            if correlation_id
            else {}
        )
        for start in range(0, len(job_ids), SQS_BATCH_LIMIT):
            chunk = job_ids[start : start + SQS_BATCH_LIMIT]
            # Entry ids only need to be unique within one batch; the position is enough.
            entries: list[SendMessageBatchRequestEntryTypeDef] = [
                {
                    "Id": str(index),
                    "MessageBody": message_body(job_id),
                    "MessageAttributes": attributes,
                    "MessageGroupId": message_group(group),
                }
                for index, job_id in enumerate(chunk)
            ]
            try:
                response = self._client.send_message_batch(QueueUrl=self._queue_url, Entries=entries)
            except ClientError as exc:
                error = exc.response.get("Error", {})
                raise StorageError(
                    f"could not queue jobs: {error.get('Code', 'error')}: {error.get('Message', '')}"
                ) from None
            except BotoCoreError as exc:
                raise StorageError(f"could not reach the job queue: {exc}") from None
            failed = response.get("Failed", [])
            if failed:
                ids = ", ".join(chunk[int(entry["Id"])] for entry in failed)
                reasons = "; ".join(
                    sorted({f"{entry['Code']}: {entry.get('Message', '')}" for entry in failed})
                )
                raise StorageError(f"could not queue jobs {ids}: {reasons}")
