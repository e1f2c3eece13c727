"""Structured-logging glue for the Lambda handlers: per-request and per-job keys on every line.

Records of one SQS batch are processed concurrently on one event loop, so keys such as the job id
cannot live in the Powertools logger's shared state. They live in context variables (each asyncio task
has its own copy), and a logging filter on the Powertools handler copies them onto every record,
including those of the core's standard-library loggers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger

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
