"""An async rate limiter (GCRA): requests start no faster than the rate, with a small burst allowance.

Workers AI allows 720 text-to-image requests a minute per account. Locally one limiter in the provider
keeps a process under it; on AWS the worker's reserved concurrency bounds the fleet.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class RateLimiter:
    def __init__(
        self,
        per_minute: int,
        *,
        burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.per_minute = per_minute
        allowed_burst = min(per_minute, burst if burst is not None else max(1, per_minute // 60))
        # A burst of B lets B - 1 extra requests into some window, so the steady rate leaves room for them:
        # no 60 s window ever holds more than `per_minute` starts.
        self._interval = 60.0 / (per_minute - allowed_burst + 1)
        self._tolerance = self._interval * (allowed_burst - 1)
        self._clock = clock
        self._sleep = sleep
        self._theoretical_arrival = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> float:
        """Wait until one more request may start. Returns the seconds waited."""
        async with self._lock:
            now = self._clock()
            arrival = max(self._theoretical_arrival, now)
            wait = arrival - self._tolerance - now
            wait = wait if wait > 1e-9 else 0.0  # float noise is not a reason to sleep
            self._theoretical_arrival = arrival + self._interval
        if wait:
            await self._sleep(wait)
        return wait
