"""The deployed stack on moto, and what tests need around it: the handlers, the queue, R2, Workers AI answers."""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from PIL import Image

from imagegen.emulator.in_process import InProcessFunction
from imagegen.emulator.lambda_service import FunctionConfig
from imagegen.emulator.sqs_event_source import SqsEventSource
from imagegen.runtime import deployment
from tests.support.aws import R2_ACCOUNT_ID, REGION

AUTH_TOKEN = "test-token-0123456789abcdef"
OTHER_TOKEN = "other-token-0123456789abcdef"
API_DOMAIN = "abc123.execute-api.eu-west-1.amazonaws.com"
CUSTOM_DOMAIN = "mcp.example.test"
BUCKET = "imagegen-images"
PUBLIC_BASE_URL = "https://images.example.test"
QUEUE_NAME = "imagegen-jobs"
MAX_RECEIVE_COUNT = 3
WORKERS_AI_URL = f"https://api.cloudflare.com/client/v4/accounts/{R2_ACCOUNT_ID}/ai/run/@cf/black-forest-labs/flux-1-schnell"


def jpeg_bytes(size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(buffer, format="JPEG")
    return buffer.getvalue()


def flux_answer(image: bytes | None = None) -> dict[str, Any]:
    return {
        "result": {"image": base64.b64encode(image or jpeg_bytes()).decode()},
        "success": True,
        "errors": [],
    }


@dataclass
class Stack:
    dynamodb: Any
    sqs: Any
    r2: Any
    queue_url: str
    dlq_url: str
    api: ModuleType  # mcp_api.handler
    worker: ModuleType  # image_worker.handler
    last_batch: list[dict[str, Any]] = field(default_factory=list)

    def event_source(self, timeout_seconds: float | None = None) -> SqsEventSource:
        """The SQS event source mapping around the worker handler, run in this process (step-through)."""
        config = FunctionConfig(
            name="image_worker",
            handler=deployment.WORKER_HANDLER,
            timeout_seconds=timeout_seconds or deployment.worker_timeout_seconds(),
            region=REGION,
        )
        worker = InProcessFunction(self.worker.lambda_handler, config)
        return SqsEventSource(self.sqs, self.queue_url, worker, region=REGION, wait_seconds=0)

    def deliver(self, timeout_seconds: float | None = None) -> dict[str, Any] | None:
        """One event source mapping cycle: receive a batch, invoke the worker handler, delete successes."""
        messages = self.receive()
        self.last_batch = messages
        return self.event_source(timeout_seconds).deliver(messages) if messages else None

    def expire_visibility(self) -> None:
        """What the visibility timeout does to the last batch's failed messages, without waiting for it."""
        for message in self.last_batch:
            try:
                self.sqs.change_message_visibility(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
            except self.sqs.exceptions.ReceiptHandleIsInvalid:
                continue  # deleted because it succeeded

    def receive(self, max_messages: int = 10) -> list[dict[str, Any]]:
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=max_messages,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return list(response.get("Messages", []))

    def queued(self, url: str | None = None) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=url or self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )

    def objects(self) -> list[dict[str, Any]]:
        return list(self.r2.list_objects_v2(Bucket=BUCKET).get("Contents", []))

    def send(self, body: str) -> None:
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=body)


def json_lines(output: str) -> list[dict[str, Any]]:
    lines = []
    for line in output.splitlines():
        try:
            parsed = json.loads(line)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            lines.append(parsed)
    return lines
