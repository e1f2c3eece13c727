"""Opaque keyset cursors: the position (created_at, job_id) of the last item a page returned.

Every store orders newest first by (created_at, job_id), so a cursor is valid for jobs and generations
on SQLite and DynamoDB alike, and inserts that happen while a client pages never shift later pages.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime

from imagegen.domain.errors import InvalidRequest
from imagegen.domain.time_range import utc_in_range

_VERSION = 1


def encode_cursor(created_at: datetime, job_id: str) -> str:
    raw = json.dumps({"v": _VERSION, "t": created_at.isoformat(), "id": job_id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if data.get("v") != _VERSION:
            raise ValueError("version")
        moment = utc_in_range("cursor", datetime.fromisoformat(data["t"]))
        return moment, str(data["id"])
    except (
        ValueError,
        KeyError,
        TypeError,
        binascii.Error,
        UnicodeDecodeError,
        AttributeError,
        InvalidRequest,
    ):
        raise InvalidRequest(
            "cursor is not valid. Pass the next_cursor value from the previous page unchanged, "
            "or omit cursor to start from the newest item."
        ) from None


def sort_key(created_at: datetime, job_id: str) -> str:
    """The total order every store lists by: fixed-width UTC time, then the job id as tie-breaker."""
    return f"{format_time(created_at)}#{job_id}"


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def cursor_sort_key(cursor: str) -> str:
    created_at, job_id = decode_cursor(cursor)
    return sort_key(created_at, job_id)
