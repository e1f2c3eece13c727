"""Lambda entry for the image worker: an SQS batch in, one delivery-policy verdict per message out.

What becomes of each message is decided by the core (`services.delivery`); this entry only turns a
record into a delivery, a verdict into SQS's terms (an acknowledged record is deleted, any other is
reported as a batch item failure), and records logs and metrics.

A body that is not {"job_id": "<uuid>"} is logged and reported as processed: no delivery could ever
succeed, and there is no job to mark failed. Failing it would only burn MAX_RECEIVE_COUNT invocations
before the same DLQ landing; the ERROR line and the MalformedMessages metric carry the evidence instead.
"""

from __future__ import annotations

import uuid
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import async_process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from imagegen.adapters.aws.sqs_queue import CORRELATION_ATTRIBUTE
from imagegen.observability import (
    METRIC_NAMESPACE,
    WORKER_SERVICE,
    MetricName,
    configure_logging,
    log_context,
    record_delivery,
)
from imagegen.ports import QueuedMessage
from imagegen.runtime.aws import AwsRuntime, AwsSettings
from imagegen.runtime.deployment import HANDBACK_MARGIN_SECONDS
from imagegen.runtime.lambda_container import container_batch_processor

logger = Logger(service=WORKER_SERVICE)
metrics = Metrics(namespace=METRIC_NAMESPACE, service=WORKER_SERVICE)
tracer = Tracer(service=WORKER_SERVICE)
configure_logging(logger)
processor = container_batch_processor()


class JobMessage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    job_id: str

    @field_validator("job_id")
    @classmethod
    def _uuid(cls, value: str) -> str:
        return str(uuid.UUID(value))


class KeepMessage(Exception):
    """Raised for a record SQS must keep: it comes back later (or goes to the dead-letter queue)."""


@lru_cache(maxsize=1)
def runtime() -> AwsRuntime:
    """Built on the first invocation and kept for the container's life."""
    return AwsRuntime(AwsSettings())


@tracer.capture_method
async def record_handler(record: SQSRecord, lambda_context: LambdaContext | None = None) -> str:
    attribute = record.message_attributes[CORRELATION_ATTRIBUTE]  # None when absent (Powertools' mapping)
    correlation_id = (attribute.string_value if attribute is not None else None) or record.message_id
    with log_context(message_id=record.message_id, correlation_id=correlation_id):
        try:
            job = JobMessage.model_validate_json(record.body)
        except ValidationError as exc:
            errors = exc.errors(include_url=False, include_input=False)
            logger.error("malformed job message dropped", extra={"body": record.body[:500], "errors": errors})
            metrics.add_metric(name=MetricName.MALFORMED_MESSAGES, unit=MetricUnit.Count, value=1)
            return "dropped"
        message = QueuedMessage(
            job_id=job.job_id,
            group=record.attributes.message_group_id or "",
            delivery_count=int(record.attributes.approximate_receive_count or 1),
            receipt=record.receipt_handle,
        )
        with log_context(job_id=job.job_id):
            verdict = await runtime().delivery().handle(message, _seconds_for_work(lambda_context))
            record_delivery(logger, metrics, verdict, message.delivery_count)
            if not verdict.acknowledged:
                raise KeepMessage(verdict.detail or verdict.disposition.value)
            return verdict.result.outcome.value if verdict.result else verdict.disposition.value


def _seconds_for_work(context: LambdaContext | None) -> float:
    """What this invocation may spend on a job before it must hand the job back (Lambda kills at 0)."""
    if context is None:
        return runtime().settings.job_lease_seconds
    return max(1.0, context.get_remaining_time_in_millis() / 1000 - HANDBACK_MARGIN_SECONDS)


@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    received = len(event.get("Records", []))
    metrics.add_metric(name=MetricName.MESSAGES_RECEIVED, unit=MetricUnit.Count, value=received)
    return async_process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
