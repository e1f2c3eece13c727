"""In-process queue and worker pool for the local server.

Jobs are durable in SQLite, so the queue only carries ids: on start-up every unfinished job is queued
again, which is what makes a crash or restart lose nothing. The pool knows nothing of what a job is: it
hands each delivery to a handler (the delivery policy) and never stops because one delivery failed.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from imagegen.ports import QueuedMessage

logger = logging.getLogger(__name__)

DeliveryHandler = Callable[[QueuedMessage], Awaitable[Any]]


class InProcessQueue:
    """Round robin between groups (clients), first in first out within each: a client with a thousand
    jobs queued holds up another client's job for at most one delivery."""

    def __init__(self) -> None:
        # Insertion order is the rotation: the group served last goes to the back.
        self._waiting: dict[str, deque[QueuedMessage]] = {}
        self._available = asyncio.Semaphore(0)  # one permit per waiting message
        self._unfinished = 0
        self._all_done = asyncio.Event()
        self._all_done.set()
        self._later: set[asyncio.Task[None]] = set()

    async def enqueue(self, job_ids: Sequence[str], group: str) -> None:
        for job_id in job_ids:
            self._put(QueuedMessage(job_id=job_id, group=group))

    def _put(self, message: QueuedMessage) -> None:
        self._waiting.setdefault(message.group, deque()).append(message)
        self._unfinished += 1
        self._all_done.clear()
        self._available.release()

    def waiting(self) -> dict[str, int]:
        """Messages waiting per group, in the order the groups will be served."""
        return {group: len(messages) for group, messages in self._waiting.items()}

    async def redeliver(self, message: QueuedMessage, delay_seconds: float) -> bool:
        again = message.model_copy(update={"delivery_count": message.delivery_count + 1})
        task = asyncio.create_task(self._put_later(again, delay_seconds))
        self._later.add(task)
        task.add_done_callback(self._later.discard)
        return True

    async def _put_later(self, message: QueuedMessage, delay_seconds: float) -> None:
        await asyncio.sleep(delay_seconds)
        self._put(message)

    async def get(self) -> QueuedMessage:
        await self._available.acquire()
        group, messages = next(iter(self._waiting.items()))
        message = messages.popleft()
        del self._waiting[group]
        if messages:
            self._waiting[group] = messages
        return message

    def task_done(self) -> None:
        self._unfinished -= 1
        if self._unfinished == 0:
            self._all_done.set()

    async def join(self) -> None:
        """Return once every message put so far has been delivered and handled."""
        await self._all_done.wait()

    async def close(self) -> None:
        """Drop the redeliveries still waiting (their jobs are picked up again at the next start)."""
        for task in list(self._later):
            task.cancel()
        await asyncio.gather(*self._later, return_exceptions=True)


class LocalWorkerPool:
    """`concurrency` tasks that take deliveries off the queue and hand each to `handle`."""

    def __init__(self, queue: InProcessQueue, handle: DeliveryHandler, *, concurrency: int) -> None:
        self._queue = queue
        self._handle = handle
        self._concurrency = concurrency
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._run(), name=f"imagegen-worker-{index}")
            for index in range(self._concurrency)
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self._queue.close()

    async def _run(self) -> None:
        while True:
            message = await self._queue.get()
            try:
                await self._handle(message)
            except Exception:
                # One broken delivery must never stop the pool; the job is picked up at the next start.
                logger.exception("delivery of job %s failed", message.job_id)
            finally:
                self._queue.task_done()
