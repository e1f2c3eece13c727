"""Domain errors. Edges translate them (MCP ToolError, HTTP status); adapters raise them instead of SDK errors."""

from __future__ import annotations

from enum import StrEnum

# Values a caller sent are quoted back in error messages, but never at length: a 900 KB job id must not
# come back whole.
MAX_SHOWN_CHARACTERS = 60


def shown(value: object) -> str:
    """`repr(value)`, cut short for an error message."""
    text = repr(value)
    if len(text) <= MAX_SHOWN_CHARACTERS:
        return text
    return f"{text[: MAX_SHOWN_CHARACTERS - 3]}... ({len(text):,} characters)"


class ImagegenError(Exception):
    """Base of every error the core raises on purpose."""


class InvalidRequest(ImagegenError):
    """The caller's input is wrong; the message tells them how to fix it."""


class JobNotFound(ImagegenError):
    def __init__(self, job_id: str) -> None:
        super().__init__(
            f"No job with id {shown(job_id)} exists for this client. Use list_jobs to see your recent job ids."
        )
        self.job_id = job_id


class ReasonCode(StrEnum):
    """Stable reason codes stored on failed jobs. Clients and dashboards may match on them."""

    CONTENT_FILTERED = "content_filtered"
    INVALID_INPUT = "invalid_input"
    UNKNOWN_MODEL = "unknown_model"
    AUTH_FAILED = "auth_failed"
    CONFIGURATION_ERROR = (
        "configuration_error"  # the server's settings are wrong; only its operator can fix it
    )
    QUOTA_EXHAUSTED = "quota_exhausted"
    RATE_LIMITED = "rate_limited"
    PROVIDER_TIMEOUT = "provider_timeout"
    PROVIDER_ERROR = "provider_error"
    STORAGE_ERROR = "storage_error"
    QUEUE_UNAVAILABLE = "queue_unavailable"
    INTERNAL_ERROR = "internal_error"
    CANCELLED = "cancelled"


class ProviderError(ImagegenError):
    """An image provider could not produce an image.

    `retryable` says whether trying again later may succeed (capacity, timeouts, 5xx); permanent errors
    (bad input, content filtered, auth) fail the job at once.
    """

    def __init__(self, reason: ReasonCode, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.retryable = retryable


class ServiceUnavailable(ImagegenError):
    """A backing service is down; the caller may retry later. Nothing was left half done."""


class StorageError(ImagegenError):
    """The image store could not save or read an object."""
