"""The times a job can be asked about: from 1970 to the year 9998, in UTC.

Python reads '0001-01-01T00:00:00+14:00' and '9999-12-31T23:59:59-14:00' without complaint, but neither
can be turned into UTC, which every store sorts and compares in. Such a time is refused with a message
rather than failing deep inside a store.
"""

from __future__ import annotations

from datetime import UTC, datetime

from imagegen.domain.errors import InvalidRequest

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)


def utc_in_range(name: str, moment: datetime) -> datetime:
    """`moment` in UTC, or InvalidRequest when it falls outside what the stores can hold."""
    try:
        utc = moment.astimezone(UTC)
    except (OverflowError, ValueError):
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise InvalidRequest(
            f"{name} is out of range: use a time between {EARLIEST:%Y-%m-%d} and 9998-12-31 (UTC), "
            "e.g. '2026-11-25T10:00:00Z'."
        )
    return utc
