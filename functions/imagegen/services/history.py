"""HistoryService: the caller's finished images — read, thumbnail, delete — and their usage totals."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Mapping
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from imagegen.domain.caller import Caller
from imagegen.domain.errors import InvalidRequest, JobNotFound, StorageError
from imagegen.domain.image_health import ImageProblem, ImageUnavailable, examine, examine_content
from imagegen.domain.limits import next_reset, utc_day
from imagegen.domain.models import ImageRef, Job, JobStatus
from imagegen.domain.validation import validate_job_id, validate_time_window
from imagegen.imaging import decodes, make_thumbnail
from imagegen.ports import Clock, ImageStore, JobQuery, JobStore

logger = logging.getLogger(__name__)

USAGE_MAX_JOBS = 10_000
CONCURRENT_IMAGE_CHECKS = 10  # botocore's connection pool; more would only queue inside the client
_USAGE_PAGE = 50


class DeleteOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    job_id: str
    deleted: bool
    image_key: str | None = None


class LimitStanding(BaseModel):
    """One limit: what is allowed (None: no limit), what is used, and what is left."""

    model_config = ConfigDict(frozen=True)

    limit: float | None
    used: float
    remaining: float | None


class Today(BaseModel):
    """The caller's limits and where it stands against them now."""

    model_config = ConfigDict(frozen=True)

    day: date
    resets_at: datetime
    jobs_in_flight: LimitStanding
    images_today: LimitStanding
    spend_today_usd: LimitStanding


class Usage(BaseModel):
    model_config = ConfigDict(frozen=True)

    since: datetime | None
    until: datetime | None
    jobs: int
    by_status: dict[str, int]
    by_model: dict[str, int]
    images: int
    estimated_cost_usd: float
    truncated: bool
    today: Today


def _standing(limit: float | None, used: float) -> LimitStanding:
    return LimitStanding(limit=limit, used=used, remaining=None if limit is None else max(0.0, limit - used))


class HistoryService:
    def __init__(self, store: JobStore, images: ImageStore, clock: Clock) -> None:
        self._store = store
        self._images = images
        self._clock = clock

    async def today(self, caller: Caller) -> Today:
        day = utc_day(self._clock.now())
        usage = await self._store.day_usage(caller.owner, day)
        limits = caller.limits
        return Today(
            day=day,
            resets_at=next_reset(day),
            jobs_in_flight=_standing(limits.jobs_in_flight, usage.in_flight),
            images_today=_standing(limits.images_per_day, usage.jobs_today),
            spend_today_usd=_standing(limits.daily_spend_usd, round(usage.spend_today_usd, 6)),
        )

    async def read_image(self, caller: Caller, job_id: str) -> tuple[bytes, str]:
        """The image's bytes and their real content type; ImageUnavailable when it is missing or damaged."""
        job_id = validate_job_id(job_id)
        generation = await self._store.get_generation(job_id)
        if generation is None or not caller.can_see(generation.owner):
            raise JobNotFound(job_id)
        found = await self._images.get(generation.image.key)
        data = found[0] if found else None
        whole = data is not None and await asyncio.to_thread(decodes, data)
        problem = examine_content(generation.image, data, decodes=whole)
        if problem is not None or data is None:
            raise ImageUnavailable(problem or ImageProblem.MISSING, job_id)
        return data, generation.image.content_type

    async def image_problems(self, images: Mapping[str, ImageRef]) -> dict[str, ImageProblem]:
        """Which of these stored images (by job id) are missing or damaged, asked of the store concurrently.

        A store that cannot answer right now is not a problem of the image: nothing is reported for it.
        """
        limit = asyncio.Semaphore(CONCURRENT_IMAGE_CHECKS)

        async def check(job_id: str, ref: ImageRef) -> tuple[str, ImageProblem | None]:
            async with limit:
                try:
                    return job_id, examine(ref, await self._images.stat(ref.key))
                except StorageError:
                    logger.warning("could not check the image of job %s", job_id, exc_info=True)
                    return job_id, None

        checked = await asyncio.gather(*(check(job_id, ref) for job_id, ref in images.items()))
        return {job_id: problem for job_id, problem in checked if problem is not None}

    async def thumbnail(self, job: Job) -> bytes | None:
        """A small JPEG of a completed job's image, or None when there is none to show.

        A thumbnail is a courtesy: if the image cannot be read or decoded the result goes out without it.
        """
        if job.status is not JobStatus.COMPLETED or job.image is None:
            return None
        try:
            found = await self._images.get(job.image.key)
            return await asyncio.to_thread(make_thumbnail, found[0]) if found else None
        except Exception:
            logger.warning("no thumbnail for job %s", job.job_id, exc_info=True)
            return None

    async def delete_generation(self, caller: Caller, job_id: str) -> DeleteOutcome:
        """Remove the image object and the history entry. Deleting twice is not an error."""
        job_id = validate_job_id(job_id)
        job = await self._store.get_job(job_id)
        if job is None or not caller.can_see(job.owner):
            raise JobNotFound(job_id)
        generation = await self._store.get_generation(job_id)
        key = generation.image.key if generation else (job.image.key if job.image else None)
        if key is not None:
            # The object goes first: a crash in between leaves a history entry to retry, never an orphan.
            await self._images.delete(key)
        deleted = await self._store.delete_generation(job_id)
        return DeleteOutcome(job_id=job_id, deleted=deleted, image_key=key)

    async def usage(self, caller: Caller, since: datetime | None, until: datetime | None) -> Usage:
        validate_time_window(since, until)
        if since and until and since >= until:
            raise InvalidRequest("since must be earlier than until.")
        by_status: Counter[str] = Counter()
        by_model: Counter[str] = Counter()
        cost = 0.0
        seen = 0
        cursor: str | None = None
        while seen < USAGE_MAX_JOBS:
            query = JobQuery(
                owner=caller.scope,
                created_after=since,
                created_before=until,
                limit=_USAGE_PAGE,
                cursor=cursor,
            )
            page = await self._store.list_jobs(query)
            for job in page.items:
                by_status[job.status.value] += 1
                by_model[job.model] += 1
                if job.status is JobStatus.COMPLETED and job.cost_usd:
                    cost += job.cost_usd
            seen += len(page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
        return Usage(
            since=since,
            until=until,
            jobs=seen,
            by_status=dict(by_status),
            by_model=dict(by_model),
            images=by_status[JobStatus.COMPLETED.value],
            estimated_cost_usd=round(cost, 6),
            truncated=cursor is not None,
            today=await self.today(caller),
        )
