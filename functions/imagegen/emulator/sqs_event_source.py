"""The SQS event source mapping: pollers that receive batches and invoke the worker function with them.

As on AWS:
- up to `maximum_concurrency` batches are in flight at once (the mapping's ScalingConfig);
- a received message stays invisible for the queue's visibility timeout; whatever the function does not
  acknowledge comes back after it, and the queue's redrive policy moves a message received too often to
  the dead-letter queue (the queue service does both; nothing here shortcuts them);
- with `ReportBatchItemFailures` the function's `batchItemFailures` name the messages to keep; the rest are
  deleted. A failed invocation (an error, a timeout, a throttle) or an answer that is not a valid partial
  batch response keeps the whole batch.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from imagegen.emulator.api_gateway import Invoker
from imagegen.emulator.events import sqs_event

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

logger = logging.getLogger(__name__)


class SqsEventSource:
    def __init__(
        self,
        client: SQSClient,
        queue_url: str,
        function: Invoker,
        *,
        region: str = "us-east-1",
        batch_size: int = 10,
        maximum_concurrency: int = 2,
        wait_seconds: int = 2,
    ) -> None:
        self._client = client
        self._queue_url = queue_url
        self._function = function
        self._region = region
        self._batch_size = batch_size
        self._concurrency = maximum_concurrency
        self._wait_seconds = wait_seconds
        self._queue_arn = client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def receive(self, wait_seconds: int | None = None) -> list[MessageTypeDef]:
        response = self._client.receive_message(
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=self._batch_size,
            WaitTimeSeconds=self._wait_seconds if wait_seconds is None else wait_seconds,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return list(response.get("Messages", []))

    def poll_once(self, wait_seconds: int | None = None) -> dict[str, Any] | None:
        """One receive + invoke + delete. Returns the function's answer, or None if nothing arrived."""
        messages = self.receive(wait_seconds)
        return self.deliver(messages) if messages else None

    def deliver(self, messages: Sequence[MessageTypeDef]) -> dict[str, Any]:
        """Invoke the function with one batch and delete what it acknowledged."""
        batch = list(messages)
        everything = {"batchItemFailures": [{"itemIdentifier": message["MessageId"]} for message in batch]}
        event = sqs_event([dict(message) for message in batch], self._queue_arn, self._region)
        result = self._function.invoke(json.dumps(event).encode())
        if result.failed:
            logger.warning(
                "worker invocation failed (%s); the batch comes back after the visibility timeout",
                result.outcome.error_type,
            )
            return everything
        kept = _failed_ids(result.outcome.body, {message["MessageId"] for message in batch})
        if kept is None:
            logger.error("the worker's answer is not a valid partial batch response; keeping the batch")
            return everything
        done = [message for message in batch if message["MessageId"] not in kept]
        if done:
            self._client.delete_message_batch(
                QueueUrl=self._queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        answer = json.loads(result.outcome.body) if result.outcome.body else None
        return answer if isinstance(answer, dict) else {"batchItemFailures": []}

    def start(self) -> None:
        self._stop.clear()
        self._threads = [
            threading.Thread(target=self._run, name=f"sqs-event-source-{index}", daemon=True)
            for index in range(self._concurrency)
        ]
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:
                logger.exception("polling the job queue failed; retrying")
                self._stop.wait(1.0)


def _failed_ids(raw: bytes, batch_ids: set[str]) -> set[str] | None:
    """The message ids a partial batch response keeps, or None when the answer is not valid (keep all)."""
    try:
        document = json.loads(raw) if raw else None
    except ValueError:
        return None
    if document is None:
        return set()
    if not isinstance(document, dict):
        return None
    failures = document.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    kept: set[str] = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in batch_ids:
            return None
        kept.add(identifier)
    return kept
