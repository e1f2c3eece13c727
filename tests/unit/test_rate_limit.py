"""The rate limiter keeps request starts under the configured rate, on a simulated clock."""

from __future__ import annotations

import asyncio
import bisect

import pytest

from imagegen.adapters.rate_limit import RateLimiter
from tests.support.fake_time import FakeTime, no_sleep


async def test_burst_passes_then_requests_are_spaced_at_the_rate() -> None:
    time = FakeTime()
    limiter = RateLimiter(720, burst=12, clock=time.clock, sleep=time.sleep)

    waits = [await limiter.acquire() for _ in range(24)]

    assert waits[:12] == [0.0] * 12
    assert all(wait > 0 for wait in waits[12:])
    # After the burst, starts are 60/709 s apart: 709 steady + 11 extra of the burst = 720 per minute.
    assert abs(time.now - 12 * 60 / 709) < 1e-9


@pytest.mark.parametrize(("per_minute", "burst"), [(60, 1), (720, 12), (120, 30)])
async def test_no_window_of_one_minute_exceeds_the_limit(per_minute: int, burst: int) -> None:
    time = FakeTime()
    limiter = RateLimiter(per_minute, burst=burst, clock=time.clock, sleep=time.sleep)
    starts: list[float] = []
    for _ in range(per_minute * 2 + burst):
        await limiter.acquire()
        starts.append(time.now)

    # A start exactly 60 s after another belongs to the next window (the 1 µs absorbs float rounding).
    busiest = max(bisect.bisect_left(starts, start + 60 - 1e-6) - index for index, start in enumerate(starts))
    assert busiest == per_minute


async def test_concurrent_callers_share_the_budget() -> None:
    # All six ask at the same instant; each is told how long to wait behind the ones before it.
    limiter = RateLimiter(120, burst=2, clock=lambda: 0.0, sleep=no_sleep)

    waits = await asyncio.gather(*(limiter.acquire() for _ in range(6)))

    interval = 60 / 119  # 120 a minute, less room for the burst's one extra request
    assert sorted(waits) == pytest.approx([0.0, 0.0, interval, 2 * interval, 3 * interval, 4 * interval])
