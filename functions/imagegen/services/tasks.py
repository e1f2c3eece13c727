"""TaskService: MCP tasks over the job store. Durable, owner-scoped, and the same on every backend.

A task is started after its tool call has done its quick part (validated the arguments, queued the jobs)
and reads its state from those jobs from then on. Nothing about a task lives in memory: a task started
on one Lambda environment is read, awaited and cancelled on any other.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

from imagegen.domain.caller import Caller
from imagegen.domain.deadline import Deadline
from imagegen.domain.models import Job
from imagegen.domain.tasks import (
    TaskAlreadyFinished,
    TaskNotFound,
    TaskRecord,
    TaskState,
    granted_ttl,
    task_state,
)
from imagegen.ports import Clock, TaskStore
from imagegen.services.jobs import JobService

LIST_PAGE_SIZE = 50
# A wait that comes back this fast without its jobs finishing was cut short (the server is stopping).
_CUT_SHORT_SECONDS = 0.05


class TaskSnapshot(BaseModel):
    """A task as it is now: its record, its jobs and the state they add up to."""

    model_config = ConfigDict(frozen=True)

    record: TaskRecord
    jobs: list[Job]
    state: TaskState


class TaskStillWorking(Exception):
    """The request's time ran out before the task finished; the task goes on."""

    def __init__(self, snapshot: TaskSnapshot) -> None:
        super().__init__(
            f"Task {snapshot.record.task_id} is still working ({snapshot.state.message}); call tasks/result "
            "again, or poll tasks/get."
        )
        self.snapshot = snapshot


class TaskService:
    def __init__(
        self,
        tasks: TaskStore,
        jobs: JobService,
        clock: Clock,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._tasks = tasks
        self._jobs = jobs
        self._clock = clock
        self._new_id = new_id

    async def start(
        self,
        caller: Caller,
        tool: str,
        job_ids: Sequence[str],
        requested_ttl: timedelta | None = None,
        *,
        finished_at_once: bool = False,
        immediate_result: dict[str, Any] | None = None,
    ) -> TaskSnapshot:
        record = TaskRecord(
            task_id=self._new_id(),
            owner=caller.owner,
            tool=tool,
            job_ids=tuple(job_ids),
            created_at=self._clock.now(),
            ttl=granted_ttl(requested_ttl),
            finished_at_once=finished_at_once,
            immediate_result=immediate_result,
        )
        await self._tasks.create_task(record)
        return await self._snapshot(caller, record)

    async def get(self, caller: Caller, task_id: str) -> TaskSnapshot:
        return await self._snapshot(caller, await self._record(caller, task_id))

    async def list(self, caller: Caller, cursor: str | None) -> tuple[list[TaskSnapshot], str | None]:
        page = await self._tasks.list_tasks(caller.owner, self._clock.now(), LIST_PAGE_SIZE, cursor)
        return [await self._snapshot(caller, record) for record in page.records], page.next_cursor

    async def cancel(self, caller: Caller, task_id: str) -> TaskSnapshot:
        """Stop every job the task still has, and mark it cancelled; a finished task cannot be cancelled."""
        current = await self.get(caller, task_id)
        if current.state.status.is_terminal:
            raise TaskAlreadyFinished(task_id, current.state.status)
        record = await self._tasks.cancel_task(task_id, self._clock.now())
        if record is None:
            raise TaskNotFound(task_id)
        for job in current.jobs:
            if not job.is_terminal:
                await self._jobs.cancel(caller, job.job_id)
        return await self._snapshot(caller, record)

    async def wait(self, caller: Caller, task_id: str, deadline: Deadline | None) -> TaskSnapshot:
        """Block until the task is finished, or raise TaskStillWorking when the request's time is up."""
        snapshot = await self.get(caller, task_id)
        while not snapshot.state.status.is_terminal:
            started = time.monotonic()
            outcome = await self._jobs.wait(caller, [job.job_id for job in snapshot.jobs], deadline=deadline)
            snapshot = await self.get(caller, task_id)
            out_of_time = deadline is not None and deadline.remaining() < 1.0
            cut_short = outcome.timed_out and time.monotonic() - started < _CUT_SHORT_SECONDS
            if not snapshot.state.status.is_terminal and (out_of_time or cut_short):
                raise TaskStillWorking(snapshot)
        return snapshot

    async def _record(self, caller: Caller, task_id: str) -> TaskRecord:
        record = await self._tasks.get_task(_valid_id(task_id), self._clock.now())
        if record is None or not caller.can_see(record.owner):
            raise TaskNotFound(task_id)
        return record

    async def _snapshot(self, caller: Caller, record: TaskRecord) -> TaskSnapshot:
        jobs = [await self._jobs.get(caller, job_id) for job_id in record.job_ids]
        return TaskSnapshot(record=record, jobs=jobs, state=task_state(record, jobs))


def _valid_id(task_id: str) -> str:
    try:
        return str(uuid.UUID(task_id))
    except (ValueError, TypeError, AttributeError):
        raise TaskNotFound(task_id) from None
