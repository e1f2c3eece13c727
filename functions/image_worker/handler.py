"""Lambda entry for the image worker: an SQS batch in, one WorkerService.process per message.

Failures are reported per message (ReportBatchItemFailures): a transient failure fails only its own
message, which SQS redelivers after the visibility timeout. On the last delivery before the queue's
redrive policy moves a message to the DLQ, the job is marked failed first, so no job stays pending
forever behind a poison message. A message whose job another invocation holds (a duplicate, or a
redelivery after a crash that arrives before the lease expires) is handed back too, never deleted.

A body that is not {"job_id": "<uuid>"} is logged and reported as processed: no delivery could ever
succeed, and there is no job to mark failed. Failing it would only burn MAX_RECEIVE_COUNT invocations
before the same DLQ landing; the ERROR line and the MalformedMessages metric carry the evidence instead.
"""

from __future__ import annotations

import asyncio
import uuid
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer, single_metric
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import async_process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from imagegen.adapters.aws import deployment
from imagegen.adapters.aws.sqs_queue import CORRELATION_ATTRIBUTE
from imagegen.domain.errors import ReasonCode
from imagegen.domain.models import JobStatus
from imagegen.runtime.aws import AwsRuntime, AwsSettings, container_batch_processor
from imagegen.runtime.aws_observability import configure_logging, log_context
from imagegen.services.worker import Outcome, ProcessResult, RetryLater, retry_delay_seconds

SERVICE = "image_worker"
# Left for handing a job back (release + visibility change) before Lambda's own timeout ends the invocation.
HANDBACK_MARGIN_SECONDS = deployment.HANDBACK_MARGIN_SECONDS
NAMESPACE = "Imagegen"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = Tracer(service=SERVICE)
configure_logging(logger)
processor = container_batch_processor()


class JobMessage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    job_id: str

    @field_validator("job_id")
    @classmethod
    def _uuid(cls, value: str) -> str:
        return str(uuid.UUID(value))


@lru_cache(maxsize=1)
def runtime() -> AwsRuntime:
    """Built on the first invocation and kept for the container's life."""
    return AwsRuntime(AwsSettings())


@tracer.capture_method
async def record_handler(record: SQSRecord, lambda_context: LambdaContext | None = None) -> str:
    attribute = record.message_attributes[CORRELATION_ATTRIBUTE]  # None when absent (Powertools' mapping)
    correlation_id = attribute.string_value if attribute is not None else None
    with log_context(message_id=record.message_id, correlation_id=correlation_id or record.message_id):
        try:
            message = JobMessage.model_validate_json(record.body)
        except ValidationError as exc:
            logger.error(
                "malformed job message dropped",
                extra={
                    "body": record.body[:500],
                    "errors": exc.errors(include_url=False, include_input=False),
                },
            )
            metrics.add_metric(name="MalformedMessages", unit=MetricUnit.Count, value=1)
            return "dropped"
        with log_context(job_id=message.job_id):
            receive_count = int(record.attributes.approximate_receive_count or 1)
            budget = _seconds_for_work(lambda_context)
            return await _process(message.job_id, receive_count, record.receipt_handle, budget)


def _seconds_for_work(context: LambdaContext | None) -> float:
    """What this invocation may spend on a job before it must hand the job back (Lambda kills at 0)."""
    if context is None:
        return runtime().settings.job_lease_seconds
    return max(1.0, context.get_remaining_time_in_millis() / 1000 - HANDBACK_MARGIN_SECONDS)


async def _process(job_id: str, receive_count: int, receipt_handle: str, budget_seconds: float) -> str:
    settings = runtime().settings
    last_delivery = receive_count >= settings.max_receive_count
    try:
        # Inside the try: a secret or client that cannot be built is a failed delivery like any other.
        worker = runtime().worker()
        async with asyncio.timeout(budget_seconds):
            result = await worker.process(job_id)
    except TimeoutError:
        # Lambda is about to end the invocation: give the job back now rather than leave it 'processing'.
        await runtime().store.release_job(job_id, runtime().clock.now())
        logger.warning("invocation ran out of time; job handed back", extra={"receive_count": receive_count})
        if last_delivery:
            await _give_up(job_id, None, ReasonCode.PROVIDER_TIMEOUT, "generation did not finish in time")
        else:
            await runtime().queue.retry_later(receipt_handle, retry_delay_seconds(receive_count))
        raise
    except Exception:
        logger.exception("worker crashed", extra={"receive_count": receive_count})
        if last_delivery:
            await _give_up(job_id, None, ReasonCode.INTERNAL_ERROR, "internal error while generating")
        raise
    _record(result, receive_count)
    if result.outcome is Outcome.SKIPPED and await _held_by_another_worker(job_id):
        # A duplicate delivery while another invocation holds the lease, or a redelivery after a crash
        # that came back before the lease expired. Deleting it could strand a crashed job in
        # 'processing'; failing it makes SQS bring it back, by when the job is finished or reclaimable.
        raise RetryLater(result)
    if result.outcome is Outcome.RETRY:
        if last_delivery:
            reason = (
                ReasonCode(result.reason) if result.reason in set(ReasonCode) else ReasonCode.PROVIDER_ERROR
            )
            await _give_up(job_id, result.model, reason, result.detail or "transient failures persisted")
        else:
            # Come back after a short backoff, not after the full visibility timeout (6x the worker's).
            await runtime().queue.retry_later(receipt_handle, retry_delay_seconds(receive_count))
        raise RetryLater(result)
    return result.outcome.value


async def _held_by_another_worker(job_id: str) -> bool:
    job = await runtime().store.get_job(job_id)
    return job is not None and job.status is JobStatus.PROCESSING


async def _give_up(job_id: str, model: str | None, reason: ReasonCode, detail: str) -> None:
    message = f"Gave up after the last delivery allowed by the queue: {detail}"
    # Straight to the store: the worker service itself may be what could not be built.
    changed = await runtime().store.fail_job(job_id, reason.value, message, runtime().clock.now())
    logger.error("job failed on its last delivery", extra={"reason": reason.value, "changed": changed})
    if changed:
        _count("JobsFailed", model, reason.value)


def _record(result: ProcessResult, receive_count: int) -> None:
    logger.info(
        "job processed",
        extra={
            "outcome": result.outcome.value,
            "reason": result.reason,
            "model": result.model,
            "provider_seconds": result.provider_seconds,
            "receive_count": receive_count,
            "detail": result.detail,
        },
    )
    if result.outcome is Outcome.COMPLETED:
        _count("JobsCompleted", result.model, None)
        if result.provider_seconds is not None:
            with single_metric(
                name="GenerationLatency",
                unit=MetricUnit.Seconds,
                value=result.provider_seconds,
                namespace=NAMESPACE,
                default_dimensions=metrics.default_dimensions,
            ) as metric:
                metric.add_dimension(name="model", value=result.model or "unknown")
    elif result.outcome is Outcome.FAILED:
        _count("JobsFailed", result.model, result.reason)
    elif result.outcome is Outcome.RETRY:
        _count("JobsRetried", result.model, result.reason)


def _count(name: str, model: str | None, reason: str | None) -> None:
    # One EMF document per event: each carries its own model/reason dimensions, which the shared
    # Metrics object (one dimension set per flush) cannot do for a mixed batch.
    with single_metric(
        name=name,
        unit=MetricUnit.Count,
        value=1,
        namespace=NAMESPACE,
        default_dimensions=metrics.default_dimensions,
    ) as metric:
        metric.add_dimension(name="model", value=model or "unknown")
        if reason is not None:
            metric.add_dimension(name="reason", value=reason)


@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    metrics.add_metric(name="MessagesReceived", unit=MetricUnit.Count, value=len(event.get("Records", [])))
    return async_process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
