"""The rate limiter keeps request starts under the configured rate, on a simulated clock."""

from __future__ import annotations

import asyncio

from imagegen.adapters.rate_limit import RateLimiter
from tests.support.fake_time import FakeTime


async def test_burst_passes_then_requests_are_spaced_at_the_rate() -> None:
    time = FakeTime()
    limiter = RateLimiter(720, burst=12, clock=time.clock, sleep=time.sleep)

    waits = [await limiter.acquire() for _ in range(24)]

    assert waits[:12] == [0.0] * 12
    assert all(wait > 0 for wait in waits[12:])
    # 24 starts at 720/min: the 13th onwards are 1/12 s apart, so 12 more take one second.
    assert abs(time.now - 1.0) < 1e-9


async def test_no_window_of_one_minute_exceeds_the_limit() -> None:
    time = FakeTime()
    limiter = RateLimiter(60, burst=1, clock=time.clock, sleep=time.sleep)
    starts: list[float] = []
    for _ in range(130):
        await limiter.acquire()
        starts.append(time.now)

    for index, start in enumerate(starts):
        in_window = sum(1 for other in starts[index:] if other < start + 60)
        assert in_window <= 60


async def test_concurrent_callers_share_the_budget() -> None:
    # All six ask at the same instant; each is told how long to wait behind the ones before it.
    async def no_sleep(_: float) -> None:
        return None

    limiter = RateLimiter(120, burst=2, clock=lambda: 0.0, sleep=no_sleep)

    waits = await asyncio.gather(*(limiter.acquire() for _ in range(6)))

    assert sorted(waits) == [0.0, 0.0, 0.5, 1.0, 1.5, 2.0]
