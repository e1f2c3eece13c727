"""Small builders for domain records, so tests state only what matters to them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from imagegen.domain.models import Generation, GenerationParams, ImageRef, Job

T0 = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


class StepClock:
    """A clock that moves forward by `step` each time it is read: every record gets a distinct time."""

    def __init__(self, start: datetime = T0, step: timedelta = timedelta(milliseconds=1)) -> None:
        self.current = start
        self.step = step

    def now(self) -> datetime:
        self.current += self.step
        return self.current


def make_job(
    *,
    owner: str = "alice",
    prompt: str = "a lighthouse at dusk",
    model: str = "flux-schnell",
    created_at: datetime = T0,
    job_id: str | None = None,
    params: GenerationParams | None = None,
) -> Job:
    return Job(
        job_id=job_id or str(uuid.uuid4()),
        owner=owner,
        prompt=prompt,
        model=model,
        params=params or GenerationParams(),
        created_at=created_at,
        updated_at=created_at,
    )


def make_generation(job: Job, *, provider: str = "preview", key: str | None = None) -> Generation:
    key = key or f"images/{job.job_id}.png"
    return Generation(
        job_id=job.job_id,
        owner=job.owner,
        prompt=job.prompt,
        model=job.model,
        params=job.params,
        provider=provider,
        image=ImageRef(key=key, url=f"https://img.example/{key}", content_type="image/png", size_bytes=10),
        created_at=job.created_at,
    )


class ManualClock:
    """A clock that stands still until a test moves it: leases and timeouts expire when the test says so."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime.now(UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)
