"""Input checks shared by every edge. Messages are written for the model that called the tool."""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from datetime import datetime

from imagegen.domain.catalog import MAX_PROMPT_LENGTH, ModelSpec
from imagegen.domain.errors import InvalidRequest, shown
from imagegen.domain.models import JobStatus
from imagegen.domain.time_range import utc_in_range

MAX_LIST_LIMIT = 50
MAX_BATCH = 20
# Deeper than this, offsets cost a store real reads for nothing: cursors page any depth.
MAX_OFFSET = 10_000


def validate_prompt(prompt: str, spec: ModelSpec | None = None) -> str:
    limit = spec.max_prompt_length if spec else MAX_PROMPT_LENGTH
    if not prompt or not prompt.strip():
        raise InvalidRequest("prompt is empty. Describe the image to generate, e.g. 'a red fox in snow'.")
    if len(prompt) > limit:
        raise InvalidRequest(
            f"prompt is {len(prompt)} characters; the limit is {limit}. Shorten it and call again."
        )
    return prompt


def validate_job_id(job_id: str) -> str:
    try:
        parsed = uuid.UUID(job_id)
    except (ValueError, AttributeError, TypeError):
        raise InvalidRequest(
            f"job_id {shown(job_id)} is malformed: job ids are UUIDs such as "
            "'3f2b9c1e-8a4d-4e6f-9b2a-1c3d5e7f9a0b', as returned by generate_image."
        ) from None
    return str(parsed)


def validate_job_ids(job_ids: Sequence[str]) -> list[str]:
    if not job_ids:
        raise InvalidRequest("job_ids is empty. Pass 1 to 20 job ids, or use job_id for one job.")
    if len(job_ids) > MAX_BATCH:
        raise InvalidRequest(f"job_ids has {len(job_ids)} ids; at most {MAX_BATCH} can be awaited at once.")
    ids = [validate_job_id(job_id) for job_id in job_ids]
    return list(dict.fromkeys(ids))


def validate_page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise InvalidRequest(f"limit={limit} is out of range: use 1 to {MAX_LIST_LIMIT}.")
    if offset < 0:
        raise InvalidRequest(f"offset={offset} is negative: use 0 or more (or pass cursor instead).")
    if offset > MAX_OFFSET:
        raise InvalidRequest(
            f"offset={shown(offset)} is too deep: use at most {MAX_OFFSET:,}, or pass the next_cursor of the "
            "previous page to go further."
        )


def validate_count(count: int) -> int:
    if not 1 <= count <= MAX_BATCH:
        raise InvalidRequest(f"count={count} is out of range: generate 1 to {MAX_BATCH} images per call.")
    return count


STATUS_FILTERS = ("all", *[status.value for status in JobStatus])


def parse_status_filter(status: str) -> frozenset[JobStatus] | None:
    if status == "all":
        return None
    try:
        return frozenset({JobStatus(status)})
    except ValueError:
        raise InvalidRequest(
            f"status {shown(status)} is not a valid filter. Use one of: {', '.join(STATUS_FILTERS)}."
        ) from None


def validate_wait_seconds(timeout_seconds: float | None) -> float | None:
    if timeout_seconds is not None and not math.isfinite(timeout_seconds):
        raise InvalidRequest(
            f"timeout_seconds={timeout_seconds} is not a number: pass seconds such as 20, or leave it out."
        )
    return timeout_seconds


def validate_time_window(created_after: datetime | None, created_before: datetime | None) -> None:
    if created_after is not None:
        utc_in_range("created_after", created_after)
    if created_before is not None:
        utc_in_range("created_before", created_before)
