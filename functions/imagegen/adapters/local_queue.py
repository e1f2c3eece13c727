"""In-process queue and worker pool for the local server.

Jobs are durable in SQLite, so the queue only carries ids: on start-up every unfinished job is queued
again, which is what makes a crash or restart lose nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from imagegen.domain.errors import ReasonCode
from imagegen.services.worker import Outcome, WorkerService

logger = logging.getLogger(__name__)


class InProcessQueue:
    def __init__(self) -> None:
        self._queue: asyncio.Queue[str] = asyncio.Queue()

    async def enqueue(self, job_ids: Sequence[str]) -> None:
        for job_id in job_ids:
            self._queue.put_nowait(job_id)

    async def get(self) -> str:
        return await self._queue.get()

    def task_done(self) -> None:
        self._queue.task_done()

    async def join(self) -> None:
        await self._queue.join()


class LocalWorkerPool:
    """`concurrency` tasks that take job ids off the queue and run the worker service on each."""

    def __init__(
        self,
        queue: InProcessQueue,
        worker: WorkerService,
        *,
        concurrency: int,
        retry_delay_seconds: float = 1.0,
    ) -> None:
        self._queue = queue
        self._worker = worker
        self._concurrency = concurrency
        self._retry_delay = retry_delay_seconds
        self._tasks: list[asyncio.Task[None]] = []
        self._retries: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._run(), name=f"imagegen-worker-{index}")
            for index in range(self._concurrency)
        ]

    async def stop(self) -> None:
        for task in [*self._tasks, *self._retries]:
            task.cancel()
        await asyncio.gather(*self._tasks, *self._retries, return_exceptions=True)
        self._tasks.clear()

    async def _run(self) -> None:
        while True:
            job_id = await self._queue.get()
            try:
                await self._process(job_id)
            finally:
                self._queue.task_done()

    async def _process(self, job_id: str) -> None:
        try:
            result = await self._worker.process(job_id)
        except Exception:
            # One broken job must never stop the pool: record it and move on.
            logger.exception("job %s crashed the worker", job_id)
            try:
                await self._worker.fail(job_id, ReasonCode.INTERNAL_ERROR, "internal error while generating")
            except Exception:
                logger.exception(
                    "could not mark job %s failed; it is picked up again at the next start", job_id
                )
            return
        logger.info("job %s: %s %s", job_id, result.outcome.value, result.reason or "")
        if result.outcome is Outcome.RETRY:
            task = asyncio.create_task(self._requeue_later(job_id))
            self._retries.add(task)
            task.add_done_callback(self._retries.discard)

    async def _requeue_later(self, job_id: str) -> None:
        await asyncio.sleep(self._retry_delay)
        await self._queue.enqueue([job_id])
