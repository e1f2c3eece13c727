"""The TaskStore contract: every store keeps task records the same way."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from imagegen.domain.errors import InvalidRequest, StorageError
from imagegen.domain.tasks import TaskRecord
from imagegen.ports import TaskStore
from tests.support.builders import T0


def record(
    owner: str = "alice", *, at: timedelta = timedelta(0), ttl: timedelta = timedelta(hours=1)
) -> TaskRecord:
    return TaskRecord(
        task_id=str(uuid.uuid4()),
        owner=owner,
        tool="generate_image_and_wait",
        job_ids=(str(uuid.uuid4()), str(uuid.uuid4())),
        created_at=T0 + at,
        ttl=ttl,
    )


async def test_a_created_task_reads_back_as_it_was_stored(task_store: TaskStore) -> None:
    task = record()

    await task_store.create_task(task)

    assert await task_store.get_task(task.task_id, T0) == task


async def test_an_unknown_task_reads_as_none(task_store: TaskStore) -> None:
    assert await task_store.get_task(str(uuid.uuid4()), T0) is None


async def test_a_task_id_is_never_reused(task_store: TaskStore) -> None:
    task = record()
    await task_store.create_task(task)

    with pytest.raises(StorageError):
        await task_store.create_task(task)


async def test_once_its_lifetime_ends_a_task_is_gone_from_reads_lists_and_cancels(
    task_store: TaskStore,
) -> None:
    task = record(ttl=timedelta(minutes=5))
    await task_store.create_task(task)
    later = T0 + timedelta(minutes=5)

    assert await task_store.get_task(task.task_id, later) is None
    assert (await task_store.list_tasks("alice", later, 10, None)).records == []
    assert await task_store.cancel_task(task.task_id, later) is None


async def test_lists_hold_only_the_owners_tasks_newest_first_in_pages(task_store: TaskStore) -> None:
    mine = [record(at=timedelta(seconds=n)) for n in range(5)]
    for task in [*mine, record("bob")]:
        await task_store.create_task(task)

    first = await task_store.list_tasks("alice", T0, 2, None)
    second = await task_store.list_tasks("alice", T0, 2, first.next_cursor)
    last = await task_store.list_tasks("alice", T0, 2, second.next_cursor)

    newest_first = [task.task_id for task in reversed(mine)]
    assert [task.task_id for page in (first, second, last) for task in page.records] == newest_first
    assert last.next_cursor is None


async def test_a_malformed_cursor_is_invalid_input(task_store: TaskStore) -> None:
    with pytest.raises(InvalidRequest):
        await task_store.list_tasks("alice", T0, 10, "not-a-cursor")


async def test_cancelling_keeps_the_first_time_and_survives_a_second_cancel(task_store: TaskStore) -> None:
    task = record()
    await task_store.create_task(task)

    first = await task_store.cancel_task(task.task_id, T0 + timedelta(seconds=1))
    second = await task_store.cancel_task(task.task_id, T0 + timedelta(seconds=2))

    assert first is not None and first.cancelled_at == T0 + timedelta(seconds=1)
    assert second == first
    assert await task_store.get_task(task.task_id, T0) == first


async def test_cancelling_an_unknown_task_answers_none(task_store: TaskStore) -> None:
    assert await task_store.cancel_task(str(uuid.uuid4()), T0) is None
