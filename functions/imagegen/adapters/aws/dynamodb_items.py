"""How jobs, generations and counters are laid out as DynamoDB items (see `schema` for the indexes).

Each item keeps the whole record as JSON (`body`, the source of truth) beside the attributes the indexes
and filters use. Counter items (one per owner, one for everyone) carry none of the GSI key attributes, so
they never appear in a list.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from imagegen.adapters.aws import schema
from imagegen.domain.cursor import format_time, sort_key
from imagegen.domain.models import Generation, Job, JobStatus

KIND_JOB = "job"
KIND_GENERATION = "generation"
COUNTS_ALL_KEY = "#counts#all"
COUNTS_OWNER_PREFIX = "#counts#owner#"
COUNT_JOBS = "n_jobs"
COUNT_GENERATIONS = "n_generations"
OWNERS = "owners"
# Pending + processing jobs of an owner, kept beside the per-status counters: a limit is checked with a
# condition on one attribute (conditions cannot add two).
COUNT_IN_FLIGHT = "n_in_flight"
# One item per owner and UTC day: jobs accepted that day and their estimated cost in micro-dollars.
USAGE_PREFIX = "#usage#owner#"
DAY_JOBS = "day_jobs"
DAY_SPEND_MICROS = "day_spend_micros"
# Day items are kept a while after their day (for usage reports), then DynamoDB's TTL removes them.
USAGE_RETENTION_DAYS = 8

Item = dict[str, Any]


def status_count(status: JobStatus) -> str:
    return f"n_{status.value}"


def owner_counts_key(owner: str) -> str:
    return f"{COUNTS_OWNER_PREFIX}{owner}"


def usage_key(owner: str, day: date) -> str:
    return f"{USAGE_PREFIX}{owner}#{day.isoformat()}"


def in_flight(status: JobStatus) -> int:
    return 0 if status.is_terminal else 1


def micros(usd: float) -> int:
    return round(usd * 1_000_000)


def owner_status_key(owner: str, status: JobStatus) -> str:
    # The status never contains '#', so splitting at the last '#' is unambiguous whatever the owner is.
    return f"{owner}#{status.value}"


def status_fields(statuses: Iterable[JobStatus]) -> list[str]:
    return [status_count(status) for status in statuses]


def job_item(job: Job, *, rev: int) -> Item:
    return {
        schema.PARTITION_KEY: {"S": job.job_id},
        "kind": {"S": KIND_JOB},
        "owner": {"S": job.owner},
        "owner_status": {"S": owner_status_key(job.owner, job.status)},
        "status": {"S": job.status.value},
        "model": {"S": job.model},
        "prompt_lower": {"S": job.prompt.lower()},
        schema.SORT_ATTRIBUTE: {"S": sort_key(job.created_at, job.job_id)},
        "created_at": {"S": format_time(job.created_at)},
        "updated_at": {"S": format_time(job.updated_at)},
        "rev": {"N": str(rev)},
        "body": {"S": job.model_dump_json()},
    }


def generation_item(generation: Generation) -> Item:
    return {
        schema.PARTITION_KEY: {"S": generation.job_id},
        "kind": {"S": KIND_GENERATION},
        "owner": {"S": generation.owner},
        "model": {"S": generation.model},
        "prompt_lower": {"S": generation.prompt.lower()},
        schema.SORT_ATTRIBUTE: {"S": sort_key(generation.created_at, generation.job_id)},
        "created_at": {"S": format_time(generation.created_at)},
        "body": {"S": generation.model_dump_json()},
    }


def job_from(item: Item | None) -> Job | None:
    # Counter items share the table; they have no body and are never jobs.
    if not item or "body" not in item or item.get("kind", {}).get("S") != KIND_JOB:
        return None
    return Job.model_validate_json(item["body"]["S"])
