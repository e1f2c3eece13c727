"""JobService: what the tools do, on the real local adapters."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from imagegen.domain.caller import Caller
from imagegen.domain.deadline import Deadline
from imagegen.domain.errors import InvalidRequest, JobNotFound, ServiceUnavailable, StorageError
from imagegen.domain.models import Job, JobStatus
from imagegen.services.history import HistoryService
from imagegen.services.jobs import JobService, PageRequest, WaitOutcome, WaitProgress
from tests.unit.conftest import Core

ALICE = Caller(owner="alice")
BOB = Caller(owner="bob")
ADMIN = Caller(owner="root", is_admin=True)


async def test_submit_stores_pending_job_and_enqueues_it(core: Core) -> None:
    [job] = await core.jobs.submit(ALICE, "a fox", "sdxl-base", {"width": 512, "seed": 7})

    assert job.status is JobStatus.PENDING
    assert job.owner == "alice"
    assert job.params.provided() == {"width": 512, "seed": 7}
    assert await core.store.get_job(job.job_id) == job
    assert (await core.queue.get()).job_id == job.job_id


async def test_submit_count_creates_one_job_per_image_in_one_batch(core: Core) -> None:
    jobs = await core.jobs.submit(ALICE, "a fox", count=5)

    assert len({job.job_id for job in jobs}) == 5
    assert len({job.batch_id for job in jobs}) == 1
    assert jobs[0].batch_id is not None


@pytest.mark.parametrize(
    ("prompt", "model", "params", "count", "message"),
    [
        ("", "flux-schnell", {}, 1, "prompt is empty"),
        ("   \n", "flux-schnell", {}, 1, "prompt is empty"),
        ("x" * 2049, "flux-schnell", {}, 1, "limit is 2048"),
        ("a fox", "dall-e", {}, 1, "Valid models: flux-schnell"),
        ("a fox", "flux-schnell", {"width": 512}, 1, "does not accept width"),
        ("a fox", "sdxl-base", {"width": 100}, 1, "width=100 is out of range"),
        ("a fox", "flux-schnell", {}, 0, "count=0 is out of range"),
        ("a fox", "flux-schnell", {}, 21, "count=21 is out of range"),
    ],
)
async def test_submit_rejects_bad_input_with_actionable_message(
    core: Core, prompt: str, model: str, params: dict[str, int], count: int, message: str
) -> None:
    with pytest.raises(InvalidRequest, match=message):
        await core.jobs.submit(ALICE, prompt, model, params, count)
    assert await core.store.unfinished_job_ids() == []


async def test_prompt_at_the_limit_is_accepted(core: Core) -> None:
    [job] = await core.jobs.submit(ALICE, "x" * 2048)
    assert len(job.prompt) == 2048


async def test_another_clients_job_reads_as_not_found(core: Core) -> None:
    [job] = await core.jobs.submit(ALICE, "a fox")

    with pytest.raises(JobNotFound):
        await core.jobs.get(BOB, job.job_id)
    assert (await core.jobs.get(ADMIN, job.job_id)).job_id == job.job_id


async def test_malformed_job_id_is_invalid_request(core: Core) -> None:
    with pytest.raises(InvalidRequest, match="malformed"):
        await core.jobs.get(ALICE, "job-123")


async def test_wait_returns_at_once_for_finished_job(core: Core) -> None:
    [job] = await core.jobs.submit(ALICE, "a fox")
    await core.worker.process(job.job_id)

    outcome = await core.jobs.wait(ALICE, [job.job_id], timeout_seconds=5)

    assert not outcome.timed_out
    assert outcome.jobs[0].status is JobStatus.COMPLETED
    assert outcome.elapsed_seconds < 0.5


def unhurried(core: Core) -> JobService:
    """A service with no periodic wake-up within a test's patience: an hour of budget and heartbeat."""
    return JobService(
        core.store,
        core.queue,
        core.watcher,
        core.clock,
        default_wait_seconds=3600,
        max_wait_seconds=3600,
        progress_interval_seconds=3600,
    )


async def unhurried_wait(core: Core) -> tuple[Job, asyncio.Task[WaitOutcome]]:
    """A job and a client waiting on it with an unhurried service, once the wait has subscribed."""
    jobs = unhurried(core)
    [job] = await jobs.submit(ALICE, "a fox")
    waiting = asyncio.create_task(jobs.wait(ALICE, [job.job_id]))
    while not core.watcher.watching(job.job_id):
        await asyncio.sleep(0)
    return job, waiting


async def test_wait_wakes_when_the_job_completes_not_on_a_poll(core: Core) -> None:
    # Given a client waiting with an hour of budget
    job, waiting = await unhurried_wait(core)

    # When the job completes
    await core.worker.process(job.job_id)

    # Then the worker's signal wakes the waiter: only a missed wake-up could take anywhere near an hour
    outcome = await asyncio.wait_for(waiting, timeout=30)
    assert outcome.jobs[0].status is JobStatus.COMPLETED
    assert not outcome.timed_out


async def test_when_the_server_starts_stopping_a_wait_answers_still_running_at_once(core: Core) -> None:
    # Given a client waiting with an hour of budget on a job nobody works on
    job, waiting = await unhurried_wait(core)

    # When the server is asked to stop
    core.watcher.close()

    # Then the wait answers the ordinary "still running, call again" instead of holding up the exit
    outcome = await asyncio.wait_for(waiting, timeout=30)
    assert outcome.timed_out
    assert [j.job_id for j in outcome.still_running] == [job.job_id]


async def test_wait_times_out_with_a_normal_still_running_outcome(core: Core) -> None:
    [job] = await core.jobs.submit(ALICE, "a fox")

    outcome = await core.jobs.wait(ALICE, [job.job_id], timeout_seconds=0.3)

    assert outcome.timed_out
    assert [j.job_id for j in outcome.still_running] == [job.job_id]


async def test_wait_budget_is_capped_by_the_server(core: Core) -> None:
    assert core.jobs.wait_budget(None) == 2
    assert core.jobs.wait_budget(3600) == 5
    assert core.jobs.wait_budget(-1) == 0


async def test_wait_budget_never_outlasts_the_requests_deadline(core: Core) -> None:
    nearly_out = Deadline.within(1.0)

    assert 0 < core.jobs.wait_budget(5, nearly_out) <= 1.0
    assert core.jobs.wait_budget(5, nearly_out.earlier_by(2.0)) == 0


async def test_wait_reports_progress_while_running(core: Core) -> None:
    [job] = await core.jobs.submit(ALICE, "a fox")
    reports: list[WaitProgress] = []

    async def record(progress: WaitProgress) -> None:
        reports.append(progress)

    await core.jobs.wait(ALICE, [job.job_id], timeout_seconds=0.7, on_progress=record)

    # Then the heartbeats move forward while nothing finishes, and never claim the job is done
    assert len(reports) >= 2
    assert all(b.progress > a.progress for a, b in itertools.pairwise(reports))
    assert all(report.total == 1 and report.finished == 0 and report.progress < 1 for report in reports)
    assert job.job_id in reports[0].message and "0/1 jobs finished" in reports[0].message


async def test_progress_counts_finished_jobs_out_of_those_waited_for(core: Core) -> None:
    jobs = await core.jobs.submit(ALICE, "a fox", count=3)
    await core.worker.process(jobs[0].job_id)
    reports: list[WaitProgress] = []

    async def record(progress: WaitProgress) -> None:
        reports.append(progress)
        if len(reports) == 1:
            await core.worker.process(jobs[1].job_id)

    await core.jobs.wait(ALICE, [job.job_id for job in jobs], timeout_seconds=0.5, on_progress=record)

    first, last = reports[0], reports[-1]
    assert (first.finished, first.total) == (1, 3) and 1 <= first.progress < 2
    assert (last.finished, last.total) == (2, 3) and 2 <= last.progress < 3
    assert "2/3 jobs finished" in last.message


async def test_wait_for_several_jobs_reports_each(core: Core) -> None:
    jobs = await core.jobs.submit(ALICE, "a fox", count=3)
    for job in jobs[:2]:
        await core.worker.process(job.job_id)
    await core.store.fail_job(jobs[2].job_id, "content_filtered", "flagged", core.clock.now())

    outcome = await core.jobs.wait(ALICE, [job.job_id for job in jobs], timeout_seconds=1)

    assert [job.status for job in outcome.jobs] == [
        JobStatus.COMPLETED,
        JobStatus.COMPLETED,
        JobStatus.FAILED,
    ]
    assert not outcome.timed_out


@pytest.mark.parametrize(("ids", "message"), [([], "empty"), (["x"] * 21, "at most 20")])
async def test_wait_rejects_bad_id_lists(core: Core, ids: list[str], message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        await core.jobs.wait(ALICE, ids)


async def test_list_jobs_rejects_bad_paging_and_filters(core: Core) -> None:
    for request, status, message in [
        (PageRequest(limit=0), "all", "limit=0"),
        (PageRequest(limit=51), "all", "limit=51"),
        (PageRequest(offset=-1), "all", "negative"),
        (PageRequest(), "done", "not a valid filter"),
        (PageRequest(cursor="%%%"), "all", "cursor is not valid"),
        (PageRequest(model="nope"), "all", "Unknown model"),
    ]:
        with pytest.raises(InvalidRequest, match=message):
            await core.jobs.list_jobs(ALICE, request, status)


async def test_cancel_pending_job_means_it_never_runs(core: Core) -> None:
    [job] = await core.jobs.submit(ALICE, "a fox")

    cancelled = await core.jobs.cancel(ALICE, job.job_id)
    result = await core.worker.process(job.job_id)

    assert cancelled.status is JobStatus.CANCELLED
    assert result.outcome.value == "skipped"
    assert core.provider.calls == []


async def test_a_completion_during_a_progress_report_is_not_missed(core: Core) -> None:
    # Given a service whose next wake-up after the first progress report is an hour away
    jobs = unhurried(core)
    [job] = await jobs.submit(ALICE, "a fox")

    async def finish_while_reporting(progress: WaitProgress) -> None:
        # The job completes (and notifies) after the waiter read it, before it starts waiting.
        await core.worker.process(job.job_id)

    # When the wait runs
    waiting = jobs.wait(ALICE, [job.job_id], on_progress=finish_while_reporting)

    # Then the change is not lost: it returns without waiting for the hour
    outcome = await asyncio.wait_for(waiting, timeout=30)
    assert outcome.jobs[0].status is JobStatus.COMPLETED


async def test_a_thumbnail_that_cannot_be_read_is_left_out_not_an_error(core: Core) -> None:
    [job] = await core.jobs.submit(ALICE, "a fox")
    await core.worker.process(job.job_id)
    done = await core.store.get_job(job.job_id)
    assert done is not None

    async def broken_get(key: str) -> tuple[bytes, str] | None:
        raise StorageError("R2 is having a moment")

    core.images.get = broken_get  # type: ignore[method-assign]

    assert await HistoryService(core.store, core.images, core.clock).thumbnail(done) is None


async def test_jobs_that_cannot_be_queued_are_failed_and_the_caller_told(core: Core) -> None:
    async def queue_down(job_ids: object, group: str) -> None:
        raise StorageError("could not queue jobs: ServiceUnavailable")

    core.queue.enqueue = queue_down  # type: ignore[method-assign]

    with pytest.raises(ServiceUnavailable, match="Try again"):
        await core.jobs.submit(ALICE, "a fox", count=2)

    page = await core.jobs.list_jobs(ALICE, PageRequest())
    assert [job.status for job in page.items] == [JobStatus.FAILED, JobStatus.FAILED]
    assert {job.error_code for job in page.items} == {"queue_unavailable"}
    assert await core.store.unfinished_job_ids() == []
