"""MCP tasks over image jobs: a task is a tool call answered later, and its state is its jobs' state.

A task record holds only what the jobs cannot tell: who started it, which tool, which jobs, how long it
is kept, and whether it was cancelled (or failed before any job existed). Everything else (working or
finished, when it last changed, what it says) is derived from the jobs whenever it is read, so a task is
as durable as the jobs are and any process, any Lambda environment, reads the same state.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from imagegen.domain import catalog
from imagegen.domain.errors import ImagegenError, shown
from imagegen.domain.models import Job

DEFAULT_TTL = timedelta(days=1)
MIN_TTL = timedelta(minutes=1)
MAX_TTL = timedelta(days=7)
# A client polls about this often a model's typical generation, within these bounds: often enough to see
# a quick model finish promptly, rarely enough that a slow one costs few reads.
POLLS_PER_GENERATION = 3
MIN_POLL_INTERVAL = timedelta(seconds=1)
MAX_POLL_INTERVAL = timedelta(seconds=5)


class TaskStatus(StrEnum):
    WORKING = "working"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self is not TaskStatus.WORKING


class TaskRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    task_id: str
    owner: str
    tool: str
    job_ids: tuple[str, ...] = ()
    created_at: datetime
    ttl: timedelta = DEFAULT_TTL
    # The tool's answer when it failed before starting any job (bad arguments, a limit): the task
    # finished at once with it. A JSON object in the wire shape of a CallToolResult.
    immediate_result: dict[str, Any] | None = None
    finished_at_once: bool = False  # the tool's own answer was final (generate_image queues and returns)
    cancelled_at: datetime | None = None

    @property
    def expires_at(self) -> datetime:
        return self.created_at + self.ttl

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


class TaskState(BaseModel):
    """What a task is now, derived from its record and its jobs."""

    model_config = ConfigDict(frozen=True)

    status: TaskStatus
    message: str
    last_updated_at: datetime
    poll_interval: timedelta
    tool_error: bool = False  # finished with the tool's error answer (isError), not with its jobs


class TaskNotFound(ImagegenError):
    def __init__(self, task_id: str) -> None:
        super().__init__(
            f"Failed to retrieve task: no task {shown(task_id)} exists for this client (it may have expired)."
        )
        self.task_id = task_id


class TaskAlreadyFinished(ImagegenError):
    def __init__(self, task_id: str, status: TaskStatus) -> None:
        super().__init__(
            f"Task {shown(task_id)} is already {status.value}; only a working task can be cancelled."
        )
        self.status = status


def granted_ttl(requested: timedelta | None) -> timedelta:
    """The receiver decides: a requested lifetime is kept within MIN_TTL..MAX_TTL, none gets the default."""
    if requested is None:
        return DEFAULT_TTL
    return max(MIN_TTL, min(MAX_TTL, requested))


def poll_interval(jobs: Sequence[Job]) -> timedelta:
    slowest = max(
        (_typical_seconds(job.model) for job in jobs),
        default=catalog.get_model(catalog.DEFAULT_MODEL).typical_latency_seconds,
    )
    suggested = timedelta(seconds=slowest / POLLS_PER_GENERATION)
    return max(MIN_POLL_INTERVAL, min(MAX_POLL_INTERVAL, suggested))


def _typical_seconds(model: str) -> float:
    try:
        return catalog.get_model(model).typical_latency_seconds
    except ImagegenError:
        return catalog.get_model(catalog.DEFAULT_MODEL).typical_latency_seconds


def task_state(record: TaskRecord, jobs: Sequence[Job]) -> TaskState:
    moments = [record.created_at, *(job.updated_at for job in jobs)]
    interval = poll_interval(jobs)
    if record.cancelled_at is not None:
        return TaskState(
            status=TaskStatus.CANCELLED,
            message="The task was cancelled by request.",
            last_updated_at=max(*moments, record.cancelled_at),
            poll_interval=interval,
        )
    if record.immediate_result is not None:
        return TaskState(
            status=TaskStatus.COMPLETED,
            message="The tool call was refused; the result says why.",
            last_updated_at=record.created_at,
            poll_interval=interval,
            tool_error=True,
        )
    finished = sum(job.is_terminal for job in jobs)
    if record.finished_at_once:
        return TaskState(
            status=TaskStatus.COMPLETED,
            message=f"Queued {len(jobs)} image job(s); {finished} finished so far.",
            last_updated_at=record.created_at,
            poll_interval=interval,
        )
    status = TaskStatus.COMPLETED if finished == len(jobs) else TaskStatus.WORKING
    return TaskState(
        status=status,
        message=f"{finished}/{len(jobs)} jobs finished.",
        last_updated_at=max(moments),
        poll_interval=interval,
    )


class TaskPage(BaseModel):
    model_config = ConfigDict(frozen=True)

    records: list[TaskRecord] = Field(default_factory=list)
    next_cursor: str | None = None
