"""JobWatcher adapters: wake waiters the moment a job changes, or poll where that cannot be seen."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence


class InProcessWatcher:
    """For the local server, where the worker runs in the same event loop as the waiting tool."""

    def __init__(self) -> None:
        self._waiters: defaultdict[str, set[asyncio.Event]] = defaultdict(set)
        self._loop: asyncio.AbstractEventLoop | None = None

    async def wait_for_change(self, job_ids: Sequence[str], timeout: float) -> None:
        self._loop = asyncio.get_running_loop()
        event = asyncio.Event()
        for job_id in job_ids:
            self._waiters[job_id].add(event)
        try:
            async with asyncio.timeout(max(timeout, 0)):
                await event.wait()
        except TimeoutError:
            pass
        finally:
            for job_id in job_ids:
                waiters = self._waiters.get(job_id)
                if waiters is not None:
                    waiters.discard(event)
                    if not waiters:
                        del self._waiters[job_id]

    def notify(self, job_id: str) -> None:
        for event in list(self._waiters.get(job_id, ())):
            event.set()


class PollingWatcher:
    """For stores written by another process (DynamoDB from the worker Lambda): re-read after a short pause."""

    def __init__(self, interval_seconds: float = 0.25) -> None:
        self._interval = interval_seconds

    async def wait_for_change(self, job_ids: Sequence[str], timeout: float) -> None:
        await asyncio.sleep(max(0.0, min(self._interval, timeout)))

    def notify(self, job_id: str) -> None:
        """Nothing to do: pollers see the change on their next read."""
