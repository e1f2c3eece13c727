"""Jobs, generations and the job state machine.

A job is one image request. It moves `pending -> processing -> completed | failed`, and any non-terminal
job may become `cancelled`. A generation is the durable record of a completed job's image: the history
that `list_generations` pages through. Every record carries its `owner` (the API key's name) so that
stores can partition by client.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from imagegen.domain.errors import InvalidTransition


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


def ensure_transition(current: JobStatus, target: JobStatus) -> None:
    if target not in ALLOWED_TRANSITIONS[current]:
        raise InvalidTransition(f"a {current.value} job cannot become {target.value}")


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
    started_at: datetime | None = None
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
