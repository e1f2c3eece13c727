"""Observability in one place: service names, the metric namespace and names (shared with the CDK
alarms), per-request and per-job log keys, and what a worker delivery records.

Records of one SQS batch are processed concurrently on one event loop, so keys such as the job id
cannot live in the Powertools logger's shared state. They live in context variables (each asyncio task
has its own copy), and a logging filter on the Powertools handler copies them onto every record,
including those of the core's standard-library loggers. Powertools is imported only where it is used,
so the names here cost nothing to import (the CDK app reads them).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics

    from imagegen.services.delivery import Verdict

API_SERVICE = "mcp_api"
WORKER_SERVICE = "image_worker"
METRIC_NAMESPACE = "Imagegen"


class MetricName:
    """The custom metrics the worker emits (EMF); dashboards and alarms use the same names."""

    MESSAGES_RECEIVED = "MessagesReceived"
    MALFORMED_MESSAGES = "MalformedMessages"
    JOBS_COMPLETED = "JobsCompleted"
    JOBS_FAILED = "JobsFailed"
    JOBS_RETRIED = "JobsRetried"
    GENERATION_LATENCY = "GenerationLatency"


class MetricDimension:
    """Dimensions of the worker's job metrics.

    Each job count is published twice: broken down by model (and reason, for failures and retries), and
    as one service-wide total under SERVICE alone. An alarm cannot add up series whose model and reason
    values are unknown when it is written (metric math must name every series), so alarms watch the
    totals and dashboards break them down.
    """

    SERVICE = "service"  # the name Powertools gives its own service dimension (MessagesReceived)
    MODEL = "model"
    REASON = "reason"


job_id_var: ContextVar[str | None] = ContextVar("imagegen_job_id", default=None)
message_id_var: ContextVar[str | None] = ContextVar("imagegen_message_id", default=None)
# The API request that caused the work: set by the API handler, carried to the worker in an SQS message
# attribute, so `imagegen logs` lines of both functions share it.
correlation_id_var: ContextVar[str | None] = ContextVar("imagegen_correlation_id", default=None)

_CONTEXT_KEYS = (
    ("job_id", job_id_var),
    ("message_id", message_id_var),
    ("correlation_id", correlation_id_var),
)

CORE_LOGGERS = ("imagegen", "mcp", "mangum")
NOISY_LOGGERS = ("mcp", "mangum")


class ContextKeysFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, var in _CONTEXT_KEYS:
            value = var.get()
            if value is not None and getattr(record, key, None) is None:
                setattr(record, key, value)
        return True


class TerminalFormatter(logging.Formatter):
    """One readable line per record, naming the job it is about (the Lambda functions log JSON instead)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        job_id = getattr(record, "job_id", None)
        return f"{line} [job {job_id}]" if job_id and job_id not in line else line


def configure_terminal_logging(level: str) -> None:
    """Logging for a process on a terminal (the local server): readable lines with the job they concern,
    and the SDK's per-request narration ("Terminating session: None") only when debugging."""
    handler = logging.StreamHandler()
    handler.addFilter(ContextKeysFilter())
    handler.setFormatter(TerminalFormatter())
    logging.basicConfig(level=level, handlers=[handler])
    quiet = logging.DEBUG if logging.getLevelName(level) == logging.DEBUG else logging.WARNING
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(quiet)


def configure_logging(logger: Logger, loggers: tuple[str, ...] = CORE_LOGGERS) -> None:
    """Send the core's loggers through the Powertools JSON handler, with the context keys."""
    from aws_lambda_powertools.logging import utils

    handler = logger.registered_handler
    if not any(isinstance(existing, ContextKeysFilter) for existing in handler.filters):
        handler.addFilter(ContextKeysFilter())
    for name in loggers:
        logging.getLogger(name)  # copy_config only sees loggers that already exist
    utils.copy_config_to_registered_loggers(source_logger=logger, include=set(loggers))
    # The Powertools handler is the only sink: a root handler added later (the runtime's, or the one mcp
    # installs when there is none) would print every line twice.
    logging.getLogger(logger.name).propagate = False
    # mcp and Mangum narrate every request's lifespan at INFO (eight lines a request); keep their
    # warnings and errors unless the function is being debugged.
    quiet = logging.DEBUG if logger.log_level <= logging.DEBUG else logging.WARNING
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(quiet)


@contextmanager
def log_context(
    *, job_id: str | None = None, message_id: str | None = None, correlation_id: str | None = None
) -> Iterator[None]:
    values = ((job_id_var, job_id), (message_id_var, message_id), (correlation_id_var, correlation_id))
    tokens = [(var, var.set(value)) for var, value in values if value is not None]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def current_correlation_id() -> str | None:
    return correlation_id_var.get()


# ---------------------------------------------------------------- what a worker delivery records


def record_delivery(logger: Logger, metrics: Metrics, verdict: Verdict, delivery_count: int) -> None:
    """One log line and the metrics for one delivery: completions with latency, failures by reason."""
    from imagegen.services.worker import Outcome

    result = verdict.result
    logger.info(
        "job processed",
        extra={
            "disposition": verdict.disposition.value,
            "outcome": result.outcome.value if result else None,
            "reason": (result.reason if result else None)
            or (verdict.gave_up.value if verdict.gave_up else None),
            "model": result.model if result else None,
            "provider_seconds": result.provider_seconds if result else None,
            "receive_count": delivery_count,
            "delay_seconds": verdict.delay_seconds,
            "detail": verdict.detail,
        },
    )
    model = result.model if result else None
    if verdict.gave_up is not None:
        logger.error("job failed on its last delivery", extra={"reason": verdict.gave_up.value})
        count(metrics, MetricName.JOBS_FAILED, model, verdict.gave_up.value)
    if result is None:
        return
    if result.outcome is Outcome.COMPLETED:
        count(metrics, MetricName.JOBS_COMPLETED, model, None)
        if result.provider_seconds is not None:
            _emit(
                metrics,
                MetricName.GENERATION_LATENCY,
                result.provider_seconds,
                "Seconds",
                {MetricDimension.MODEL: model},
            )
    elif result.outcome is Outcome.FAILED:
        count(metrics, MetricName.JOBS_FAILED, model, result.reason)
    elif result.outcome is Outcome.RETRY:
        count(metrics, MetricName.JOBS_RETRIED, model, result.reason)


def count(metrics: Metrics, name: str, model: str | None, reason: str | None) -> None:
    breakdown = {MetricDimension.MODEL: model}
    if reason is not None:
        breakdown[MetricDimension.REASON] = reason
    _emit(metrics, name, 1, "Count", breakdown)
    # A second document rather than a second dimension set in the first: single_metric takes one set.
    _emit(metrics, name, 1, "Count", {MetricDimension.SERVICE: WORKER_SERVICE})


def _emit(metrics: Metrics, name: str, value: float, unit: str, dimensions: dict[str, str | None]) -> None:
    # One EMF document per event: each carries its own model/reason dimensions, which the shared Metrics
    # object (one dimension set per flush) cannot do for a mixed batch.
    from aws_lambda_powertools import single_metric
    from aws_lambda_powertools.metrics import MetricUnit

    with single_metric(
        name=name,
        unit=MetricUnit(unit),
        value=value,
        namespace=METRIC_NAMESPACE,
        default_dimensions=metrics.default_dimensions,
    ) as metric:
        for key, dimension in dimensions.items():
            metric.add_dimension(name=key, value=dimension or "unknown")
