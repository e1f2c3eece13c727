"""JobWatcher adapters: wake waiters the moment a job changes, or poll where that cannot be seen.

A waiter subscribes before it first reads the jobs, so a change that lands between its read and its
wait is never lost: the subscription remembers it and the next wait returns at once.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from imagegen.ports import JobChanges


class _EventChanges:
    def __init__(self, watcher: InProcessWatcher) -> None:
        self.event = asyncio.Event()
        self._watcher = watcher

    async def wait(self, timeout: float) -> bool:
        if self._watcher.closed:
            return False
        try:
            async with asyncio.timeout(max(timeout, 0)):
                await self.event.wait()
        except TimeoutError:
            return True
        self.event.clear()
        return not self._watcher.closed


class InProcessWatcher:
    """For the local server, where the worker runs in the same event loop as the waiting tool."""

    def __init__(self) -> None:
        self._subscribers: defaultdict[str, set[_EventChanges]] = defaultdict(set)
        self.closed = False

    def close(self) -> None:
        """The server is stopping: wake every waiter so that it answers now instead of holding up the exit."""
        self.closed = True
        for subscribers in list(self._subscribers.values()):
            for changes in subscribers:
                changes.event.set()

    @asynccontextmanager
    async def watch(self, job_ids: Sequence[str]) -> AsyncIterator[JobChanges]:
        changes = _EventChanges(self)
        for job_id in job_ids:
            self._subscribers[job_id].add(changes)
        try:
            yield changes
        finally:
            for job_id in job_ids:
                subscribers = self._subscribers.get(job_id)
                if subscribers is not None:
                    subscribers.discard(changes)
                    if not subscribers:
                        del self._subscribers[job_id]

    def notify(self, job_id: str) -> None:
        for changes in list(self._subscribers.get(job_id, ())):
            changes.event.set()

    def watching(self, job_id: str) -> int:
        """How many waits are subscribed to this job right now."""
        return len(self._subscribers.get(job_id, ()))


class _Poll:
    def __init__(self, interval: float) -> None:
        self._interval = interval

    async def wait(self, timeout: float) -> bool:
        await asyncio.sleep(max(0.0, min(self._interval, timeout)))
        return True


class PollingWatcher:
    """For stores written by another process (DynamoDB from the worker Lambda): re-read after a short pause.

    A 0.25 s poll wakes a wait tool within a quarter second of completion, for one strongly consistent
    GetItem per job per poll.
    """

    def __init__(self, interval_seconds: float = 0.25) -> None:
        self._interval = interval_seconds

    @asynccontextmanager
    async def watch(self, job_ids: Sequence[str]) -> AsyncIterator[JobChanges]:
        yield _Poll(self._interval)

    def notify(self, job_id: str) -> None:
        """Nothing to do: pollers see the change on their next read."""
