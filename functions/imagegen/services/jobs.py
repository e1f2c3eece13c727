"""JobService: what the MCP tools do (submit, get, list, wait, cancel), independent of any transport."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from imagegen.domain import catalog
from imagegen.domain.caller import Caller
from imagegen.domain.cursor import decode_cursor
from imagegen.domain.deadline import Deadline
from imagegen.domain.errors import JobNotFound, ReasonCode, ServiceUnavailable, StorageError
from imagegen.domain.models import Generation, Job, JobStatus
from imagegen.domain.validation import (
    parse_status_filter,
    validate_count,
    validate_job_id,
    validate_job_ids,
    validate_page,
    validate_prompt,
    validate_time_window,
    validate_wait_seconds,
)
from imagegen.ports import Clock, JobQuery, JobQueue, JobStore, JobWatcher, Page


class PageRequest(BaseModel):
    """What a list call asks for: a page (cursor or offset) and optional filters, all validated here."""

    model_config = ConfigDict(frozen=True)

    limit: int = 10
    offset: int = 0
    cursor: str | None = None
    model: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    prompt_contains: str | None = None


class WaitOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    jobs: list[Job]
    timed_out: bool
    elapsed_seconds: float

    @property
    def still_running(self) -> list[Job]:
        return [job for job in self.jobs if not job.is_terminal]


# While nothing more finishes, progress still creeps up (the spec wants every notification to increase
# it), by at most this much of one job, so it never claims a job is done before it is.
HEARTBEAT_SHARE = 0.9


class WaitProgress(BaseModel):
    """Where a wait stands: `progress` counts finished jobs (plus a share of the budget used, so that a
    heartbeat still moves it forward), `total` the jobs waited for, and the message says which."""

    model_config = ConfigDict(frozen=True)

    progress: float
    total: int
    finished: int
    elapsed_seconds: float
    budget_seconds: float
    message: str


ProgressCallback = Callable[[WaitProgress], Awaitable[None]]


class JobService:
    def __init__(
        self,
        store: JobStore,
        queue: JobQueue,
        watcher: JobWatcher,
        clock: Clock,
        *,
        default_wait_seconds: float,
        max_wait_seconds: float,
        progress_interval_seconds: float = 5.0,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._store = store
        self._queue = queue
        self._watcher = watcher
        self._clock = clock
        self.default_wait_seconds = default_wait_seconds
        self.max_wait_seconds = max_wait_seconds
        self._progress_interval = progress_interval_seconds
        self._new_id = new_id

    @property
    def store(self) -> JobStore:
        return self._store

    @property
    def clock(self) -> Clock:
        return self._clock

    # ------------------------------------------------------------ submit

    async def submit(
        self,
        caller: Caller,
        prompt: str,
        model: str = catalog.DEFAULT_MODEL,
        params: Mapping[str, Any] | None = None,
        count: int = 1,
    ) -> list[Job]:
        spec = catalog.get_model(model)
        validate_prompt(prompt, spec)
        validate_count(count)
        generation_params = catalog.validate_params(spec, params or {})
        now = self._clock.now()
        batch_id = self._new_id() if count > 1 else None
        jobs = [
            Job(
                job_id=self._new_id(),
                owner=caller.owner,
                prompt=prompt,
                model=spec.key,
                params=generation_params,
                created_at=now,
                updated_at=now,
                batch_id=batch_id,
                estimated_cost_usd=spec.estimate_cost_usd(generation_params),
            )
            for _ in range(count)
        ]
        await self._store.create_jobs(jobs, caller.limits)
        try:
            await self._queue.enqueue([job.job_id for job in jobs], caller.owner)
        except StorageError as exc:
            # Jobs nobody will ever process must not sit 'pending': fail them, then say so plainly.
            # A message that did get through finds its job failed and is skipped by the worker.
            for job in jobs:
                await self._store.fail_job(job.job_id, ReasonCode.QUEUE_UNAVAILABLE.value, str(exc), now)
            raise ServiceUnavailable(
                "The job queue is unavailable, so no image was generated. Try again in a minute."
            ) from exc
        return jobs

    # ------------------------------------------------------------ read

    async def get(self, caller: Caller, job_id: str) -> Job:
        job_id = validate_job_id(job_id)
        job = await self._store.get_job(job_id)
        # Another client's job reads exactly like a missing one: ids must not leak across owners.
        if job is None or not caller.can_see(job.owner):
            raise JobNotFound(job_id)
        return job

    async def get_generation(self, caller: Caller, job_id: str) -> Generation:
        job_id = validate_job_id(job_id)
        generation = await self._store.get_generation(job_id)
        if generation is None or not caller.can_see(generation.owner):
            raise JobNotFound(job_id)
        return generation

    async def list_jobs(self, caller: Caller, page: PageRequest, status: str = "all") -> Page[Job]:
        query = self._query(caller, page).model_copy(update={"statuses": parse_status_filter(status)})
        return await self._store.list_jobs(query)

    async def list_generations(self, caller: Caller, page: PageRequest) -> Page[Generation]:
        return await self._store.list_generations(self._query(caller, page))

    @staticmethod
    def _query(caller: Caller, page: PageRequest) -> JobQuery:
        validate_page(page.limit, page.offset)
        validate_time_window(page.created_after, page.created_before)
        if page.cursor is not None:
            decode_cursor(page.cursor)  # reject a malformed cursor before it reaches a store
        if page.model is not None:
            catalog.get_model(page.model)
        return JobQuery(owner=caller.scope, **page.model_dump())

    # ------------------------------------------------------------ wait

    def wait_budget(self, timeout_seconds: float | None, deadline: Deadline | None = None) -> float:
        """The server decides the ceiling: a client may ask for less, never for more, and never past
        the request's deadline."""
        validate_wait_seconds(timeout_seconds)
        wanted = self.default_wait_seconds if timeout_seconds is None else float(timeout_seconds)
        budget = max(0.0, min(wanted, self.max_wait_seconds))
        return deadline.budget(budget) if deadline is not None else budget

    async def wait(
        self,
        caller: Caller,
        job_ids: Sequence[str],
        timeout_seconds: float | None = None,
        on_progress: ProgressCallback | None = None,
        deadline: Deadline | None = None,
    ) -> WaitOutcome:
        ids = validate_job_ids(job_ids)
        budget = self.wait_budget(timeout_seconds, deadline)
        started = time.monotonic()
        ends_at = started + budget
        last_report = -self._progress_interval
        last_statuses: tuple[JobStatus, ...] = ()
        # Subscribe before the first read, so a completion between a read and the wait is not missed.
        async with self._watcher.watch(ids) as changes:
            while True:
                jobs = [await self.get(caller, job_id) for job_id in ids]
                now = time.monotonic()
                if all(job.is_terminal for job in jobs) or now >= ends_at:
                    return WaitOutcome(
                        jobs=jobs,
                        timed_out=not all(job.is_terminal for job in jobs),
                        elapsed_seconds=round(now - started, 3),
                    )
                statuses = tuple(job.status for job in jobs)
                if on_progress and (
                    statuses != last_statuses or now - last_report >= self._progress_interval
                ):
                    await on_progress(_progress(jobs, now - started, budget))
                    last_report, last_statuses = now, statuses
                if not await changes.wait(min(ends_at - time.monotonic(), self._progress_interval)):
                    # The server is stopping: answer "still running" now; the client calls again after.
                    ends_at = time.monotonic()

    # ------------------------------------------------------------ cancel

    async def cancel(self, caller: Caller, job_id: str) -> Job:
        job = await self.get(caller, job_id)
        if job.is_terminal:
            return job
        cancelled = await self._store.cancel_job(job.job_id, self._clock.now())
        self._watcher.notify(job.job_id)
        if cancelled is None:
            raise JobNotFound(job.job_id)
        return cancelled


def _progress(jobs: Sequence[Job], elapsed: float, budget: float) -> WaitProgress:
    finished = sum(job.is_terminal for job in jobs)
    share = HEARTBEAT_SHARE * min(1.0, elapsed / budget) if budget > 0 else 0.0
    if len(jobs) == 1:
        message = f"0/1 jobs finished: job {jobs[0].job_id} is {jobs[0].status.value} ({elapsed:.1f}s)"
    else:
        message = f"{finished}/{len(jobs)} jobs finished ({elapsed:.1f}s)"
    return WaitProgress(
        progress=round(finished + share, 4),
        total=len(jobs),
        finished=finished,
        elapsed_seconds=round(elapsed, 2),
        budget_seconds=budget,
        message=message,
    )
