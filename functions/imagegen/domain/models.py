"""Jobs, generations and the job state machine.

A job is one image request. It moves `pending -> processing -> completed | failed`, and any non-terminal
job may become `cancelled`. A generation is the durable record of a completed job's image: the history
that `list_generations` pages through. Every record carries its `owner` (the API key's name) so that
stores can partition by client.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# Providers that cost nothing to call: the offline preview draws its images itself.
PREVIEW_PROVIDER = "preview"
FREE_PROVIDERS = frozenset({PREVIEW_PROVIDER})


class JobStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED})

ALLOWED_TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.PENDING: frozenset({JobStatus.PROCESSING, JobStatus.FAILED, JobStatus.CANCELLED}),
    # processing -> pending is the recovery path after a crashed worker's lease expires.
    JobStatus.PROCESSING: frozenset(
        {JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.PENDING}
    ),
    JobStatus.COMPLETED: frozenset(),
    JobStatus.FAILED: frozenset(),
    JobStatus.CANCELLED: frozenset(),
}


class GenerationParams(BaseModel):
    """Validated, model-specific generation parameters. Only the ones the model accepts are set."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    width: int | None = None
    height: int | None = None
    seed: int | None = None
    negative_prompt: str | None = None
    steps: int | None = None
    guidance: float | None = None

    def provided(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class ImageRef(BaseModel):
    """Where a stored image lives and what it is."""

    model_config = ConfigDict(frozen=True)

    key: str
    url: str
    content_type: str
    size_bytes: int
    width: int | None = None
    height: int | None = None


class Job(BaseModel):
    model_config = ConfigDict(frozen=True)

    job_id: str
    owner: str
    prompt: str
    model: str = Field(description="Catalog key of the model, e.g. 'flux-schnell'.")
    params: GenerationParams = GenerationParams()
    status: JobStatus = JobStatus.PENDING
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None  # the current (or last) claim: leases count from it
    first_started_at: datetime | None = None  # the first claim: when the job really began
    completed_at: datetime | None = None
    batch_id: str | None = None
    provider: str | None = None
    image: ImageRef | None = None
    error_code: str | None = None
    error_message: str | None = None
    attempts: int = 0
    estimated_cost_usd: float | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status.is_terminal

    # Transitions. Each returns the job as it becomes, or None when the transition does not apply; the
    # stores only make the read-check-write atomic (a transaction in SQLite, a conditional write in
    # DynamoDB), so every store moves jobs through exactly the same state machine.

    def claimed(self, now: datetime, lease_seconds: float) -> Job | None:
        """Pending, or processing by a worker whose lease has expired -> processing."""
        lease_expired = (
            self.status is JobStatus.PROCESSING
            and self.started_at is not None
            and self.started_at + timedelta(seconds=lease_seconds) <= now
        )
        if self.status is not JobStatus.PENDING and not lease_expired:
            return None
        return self.model_copy(
            update={
                "status": JobStatus.PROCESSING,
                "started_at": now,
                "first_started_at": self.first_started_at or now,
                "updated_at": now,
                "attempts": self.attempts + 1,
            }
        )

    def completed(self, generation: Generation, now: datetime) -> Job | None:
        if self.status is not JobStatus.PROCESSING:
            return None
        return self.model_copy(
            update={
                "status": JobStatus.COMPLETED,
                "completed_at": now,
                "updated_at": now,
                "provider": generation.provider,
                "image": generation.image,
                "error_code": None,
                "error_message": None,
            }
        )

    def failed(self, reason: str, message: str, now: datetime) -> Job | None:
        return self._finished(JobStatus.FAILED, now, reason, message)

    def cancelled(self, now: datetime) -> Job | None:
        return self._finished(JobStatus.CANCELLED, now, "cancelled", None)

    def _finished(self, status: JobStatus, now: datetime, code: str, message: str | None) -> Job | None:
        if self.is_terminal:
            return None
        update = {"status": status, "error_code": code, "completed_at": now, "updated_at": now}
        return self.model_copy(update=update if message is None else {**update, "error_message": message})

    def released(self, now: datetime, *, attempted: bool = True) -> Job | None:
        """processing -> pending, for a retry after a transient failure; with `attempted=False` (given back
        at a clean shutdown) the claim's attempt is taken back, so restarts never use up a job's attempts."""
        if self.status is not JobStatus.PROCESSING:
            return None
        attempts = self.attempts if attempted else max(0, self.attempts - 1)
        return self.model_copy(
            update={"status": JobStatus.PENDING, "started_at": None, "updated_at": now, "attempts": attempts}
        )

    def tries_summary(self, now: datetime) -> str:
        """How often and for how long this job has been tried, when that is more than once ("" if not)."""
        if self.attempts < 2 or self.first_started_at is None:
            return ""
        seconds = (now - self.first_started_at).total_seconds()
        return f"This job was tried {self.attempts} times over {seconds:.1f} s."

    @property
    def cost_usd(self) -> float | None:
        """What the job cost by the catalog's prices: nothing for a free provider, nothing for a job that
        never reached one (cancelled or refused before it started)."""
        if self.estimated_cost_usd is None:
            return None
        if self.provider in FREE_PROVIDERS or self.first_started_at is None:
            return 0.0
        return self.estimated_cost_usd

    def without_image(self) -> Job:
        return self.model_copy(update={"image": None})


class Generation(BaseModel):
    """A completed image in the caller's history."""

    model_config = ConfigDict(frozen=True)

    job_id: str
    owner: str
    prompt: str
    model: str
    params: GenerationParams = GenerationParams()
    provider: str
    image: ImageRef
    created_at: datetime
    batch_id: str | None = None


IMAGE_KEY_PREFIX = "images"


def image_key(job_id: str, extension: str) -> str:
    """Where a job's image is stored: derived from the job id, so a retry overwrites and never adds."""
    return f"{IMAGE_KEY_PREFIX}/{job_id}.{extension}"
