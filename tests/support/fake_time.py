"""Simulated monotonic time: it only moves when code sleeps, so timing logic is tested instantly and exactly."""

from __future__ import annotations


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


async def no_sleep(_: float) -> None:
    """A sleep that returns at once: for code whose waiting is not what the test is about."""
    return
