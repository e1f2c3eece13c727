"""WorkerService: turn one queued job into a stored image, exactly once, whatever is redelivered.

Idempotency rests on three facts: a job is claimed with a conditional state change (one winner), the
object key is derived from the job id (a retry overwrites, never adds), and completion is a conditional
`processing -> completed` that also writes the generation (at most one record).
"""

from __future__ import annotations

import logging
import time
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from imagegen.domain import catalog
from imagegen.domain.errors import InvalidRequest, ProviderError, ReasonCode, StorageError
from imagegen.domain.models import Generation, Job, image_key
from imagegen.ports import Clock, GenerationRequest, ImageProvider, ImageStore, JobStore, JobWatcher

logger = logging.getLogger(__name__)


class Outcome(StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"
    RETRY = "retry"  # transient: the job is pending again and the message should be redelivered
    DISCARDED = "discarded"  # cancelled while generating: the image was thrown away
    SKIPPED = "skipped"  # missing, already finished, or being processed by another worker


class ProcessResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    job_id: str
    outcome: Outcome
    reason: str | None = None
    model: str | None = None
    provider_seconds: float | None = None
    detail: str = ""
    attempt: int | None = None  # which try of the job this was (None when the job was not claimed)


class WorkerService:
    def __init__(
        self,
        store: JobStore,
        images: ImageStore,
        provider: ImageProvider,
        watcher: JobWatcher,
        clock: Clock,
        *,
        lease_seconds: float = 300.0,
        max_attempts: int = 3,
    ) -> None:
        self._store = store
        self._images = images
        self._provider = provider
        self._watcher = watcher
        self._clock = clock
        self._lease_seconds = lease_seconds
        self._max_attempts = max_attempts

    @property
    def provider_name(self) -> str:
        return self._provider.name

    async def process(self, job_id: str) -> ProcessResult:
        job = await self._store.claim_job(job_id, self._clock.now(), self._lease_seconds)
        if job is None:
            return await self._skipped(job_id)
        try:
            return await self._run(job)
        finally:
            self._watcher.notify(job_id)

    async def fail(self, job_id: str, reason: ReasonCode, message: str) -> bool:
        """Mark a job failed from outside the normal path (poison message, crash loop)."""
        changed = await self._store.fail_job(job_id, reason.value, message, self._clock.now())
        self._watcher.notify(job_id)
        return changed

    async def _skipped(self, job_id: str) -> ProcessResult:
        existing = await self._store.get_job(job_id)
        detail = "no such job" if existing is None else f"job is {existing.status.value}"
        return ProcessResult(job_id=job_id, outcome=Outcome.SKIPPED, detail=detail)

    async def _run(self, job: Job) -> ProcessResult:
        try:
            spec = catalog.get_model(job.model)
        except InvalidRequest as exc:
            return await self._failed(job, ReasonCode.UNKNOWN_MODEL, str(exc))
        request = GenerationRequest(model=spec.key, prompt=job.prompt, params=job.params)
        started = time.perf_counter()
        try:
            image = await self._provider.generate(request)
        except ProviderError as exc:
            if exc.retryable and job.attempts < self._max_attempts:
                return await self._retry(job, exc.reason.value, exc.message)
            return await self._failed(job, exc.reason, exc.message)
        provider_seconds = time.perf_counter() - started

        key = image_key(job.job_id, image.extension)
        try:
            ref = await self._images.put(key, image.data, image.content_type)
        except StorageError as exc:
            if job.attempts < self._max_attempts:
                return await self._retry(job, ReasonCode.STORAGE_ERROR.value, str(exc))
            return await self._failed(job, ReasonCode.STORAGE_ERROR, str(exc))
        if ref.width is None and image.width is not None:
            ref = ref.model_copy(update={"width": image.width, "height": image.height})

        now = self._clock.now()
        generation = Generation(
            job_id=job.job_id,
            owner=job.owner,
            prompt=job.prompt,
            model=job.model,
            params=job.params,
            provider=self._provider.name,
            image=ref,
            created_at=job.created_at,
            batch_id=job.batch_id,
        )
        if not await self._store.complete_job(job.job_id, generation, now):
            # Cancelled (or finished by another worker) while we generated: keep nothing of ours.
            current = await self._store.get_job(job.job_id)
            if current is None or current.image is None or current.image.key != key:
                await self._images.delete(key)
            return ProcessResult(
                job_id=job.job_id,
                outcome=Outcome.DISCARDED,
                model=job.model,
                detail="job left processing",
                attempt=job.attempts,
            )
        return ProcessResult(
            job_id=job.job_id,
            outcome=Outcome.COMPLETED,
            model=job.model,
            provider_seconds=round(provider_seconds, 4),
            attempt=job.attempts,
        )

    async def _retry(self, job: Job, reason: str, message: str) -> ProcessResult:
        await self._store.release_job(job.job_id, self._clock.now())
        logger.warning("transient failure, job released for retry", extra={"job_id": job.job_id})
        return ProcessResult(
            job_id=job.job_id,
            outcome=Outcome.RETRY,
            reason=reason,
            model=job.model,
            detail=message,
            attempt=job.attempts,
        )

    async def _failed(self, job: Job, reason: ReasonCode, message: str) -> ProcessResult:
        now = self._clock.now()
        message = " ".join(part for part in (message, job.tries_summary(now)) if part)
        await self._store.fail_job(job.job_id, reason.value, message, now)
        return ProcessResult(
            job_id=job.job_id,
            outcome=Outcome.FAILED,
            reason=reason.value,
            model=job.model,
            detail=message,
            attempt=job.attempts,
        )
