"""The real clock. Tests pass their own `Clock` implementation instead of patching time."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)
