"""A task's state is its jobs' state: what each combination of record and jobs reads as."""

from __future__ import annotations

from datetime import timedelta

import pytest

from imagegen.domain.models import Job
from imagegen.domain.tasks import (
    MAX_POLL_INTERVAL,
    MAX_TTL,
    MIN_POLL_INTERVAL,
    MIN_TTL,
    TaskRecord,
    TaskStatus,
    granted_ttl,
    poll_interval,
    task_state,
)
from tests.support.builders import T0, make_generation, make_job

LATER = T0 + timedelta(seconds=30)


def record(**changes: object) -> TaskRecord:
    return TaskRecord(task_id="t", owner="alice", tool="generate_image_and_wait", created_at=T0).model_copy(
        update=changes
    )


def finished(model: str = "flux-schnell") -> Job:
    job = make_job(model=model).claimed(T0, 60)
    assert job is not None
    done = job.completed(make_generation(job), LATER)
    assert done is not None
    return done


def test_a_task_is_working_until_every_job_is_finished_and_says_how_far_it_is() -> None:
    jobs = [finished(), make_job()]

    state = task_state(record(), jobs)

    assert (state.status, state.message) == (TaskStatus.WORKING, "1/2 jobs finished.")
    assert state.last_updated_at == LATER


def test_a_task_whose_jobs_all_finished_is_completed() -> None:
    assert task_state(record(), [finished(), finished()]).status is TaskStatus.COMPLETED


def test_a_cancelled_task_stays_cancelled_whatever_its_jobs_did() -> None:
    state = task_state(record(cancelled_at=LATER), [finished()])

    assert state.status is TaskStatus.CANCELLED and state.last_updated_at == LATER


def test_a_refused_call_is_a_finished_task_flagged_as_a_tool_error() -> None:
    state = task_state(record(immediate_result={"content": [], "isError": True}), [])

    assert state.status is TaskStatus.COMPLETED and state.tool_error


def test_a_task_whose_tool_answers_at_once_is_completed_at_once() -> None:
    state = task_state(record(tool="generate_image", finished_at_once=True), [make_job()])

    assert state.status is TaskStatus.COMPLETED and not state.tool_error


@pytest.mark.parametrize(
    ("requested", "granted"),
    [
        (None, timedelta(days=1)),
        (timedelta(seconds=1), MIN_TTL),
        (timedelta(hours=2), timedelta(hours=2)),
        (timedelta(days=365), MAX_TTL),
    ],
)
def test_the_server_decides_the_lifetime_within_its_bounds(
    requested: timedelta | None, granted: timedelta
) -> None:
    assert granted_ttl(requested) == granted


def test_slow_models_are_polled_less_often_than_quick_ones_within_bounds() -> None:
    quick = poll_interval([make_job(model="sdxl-lightning")])
    slow = poll_interval([make_job(model="flux-2-dev")])

    assert MIN_POLL_INTERVAL <= quick < slow <= MAX_POLL_INTERVAL
