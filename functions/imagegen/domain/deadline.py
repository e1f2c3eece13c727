"""A deadline: the moment by which a request must have been answered.

Behind API Gateway a request has to be answered within the integration timeout (30 s, counted from when
the gateway received it, cold start included) and within the function's own timeout. Every budget spent
while serving the request (a wait, thumbnails) is derived from one `Deadline`, so no setting can make a
request outlive it. Locally there is no such limit and no deadline is set.
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Deadline:
    at: float  # time.monotonic() value

    @classmethod
    def within(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds)

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())

    def earlier_by(self, seconds: float) -> Deadline:
        """The deadline that leaves `seconds` for what must still happen after it."""
        return Deadline(self.at - seconds)

    def budget(self, wanted: float) -> float:
        """At most `wanted` seconds, and never past the deadline."""
        return max(0.0, min(wanted, self.remaining()))


def earliest(*deadlines: Deadline | None) -> Deadline | None:
    present = [deadline for deadline in deadlines if deadline is not None]
    return min(present, key=lambda deadline: deadline.at) if present else None
