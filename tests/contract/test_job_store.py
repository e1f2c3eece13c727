"""JobStore contract: every adapter (SQLite, DynamoDB on moto) must behave exactly like this."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from imagegen.domain.errors import InvalidRequest, StorageError
from imagegen.domain.models import JobStatus
from imagegen.ports import JobQuery, JobStore
from tests.support.builders import T0, make_generation, make_job

LEASE = 60.0


async def test_created_job_reads_back_identical(job_store: JobStore) -> None:
    job = make_job()
    await job_store.create_jobs([job])
    assert await job_store.get_job(job.job_id) == job


async def test_duplicate_job_id_is_a_storage_error_and_creates_nothing(job_store: JobStore) -> None:
    job = make_job()
    await job_store.create_jobs([job])
    fresh = make_job()

    with pytest.raises(StorageError):
        await job_store.create_jobs([fresh, job.model_copy(update={"prompt": "changed"})])

    assert await job_store.get_job(fresh.job_id) is None
    assert (await job_store.get_job(job.job_id)) == job


async def test_missing_job_reads_as_none(job_store: JobStore) -> None:
    assert await job_store.get_job("00000000-0000-4000-8000-000000000000") is None


async def test_claim_moves_pending_to_processing_once(job_store: JobStore) -> None:
    job = make_job()
    await job_store.create_jobs([job])

    claimed = await job_store.claim_job(job.job_id, T0 + timedelta(seconds=1), LEASE)
    again = await job_store.claim_job(job.job_id, T0 + timedelta(seconds=2), LEASE)

    assert claimed is not None
    assert claimed.status is JobStatus.PROCESSING
    assert claimed.attempts == 1
    assert claimed.started_at == T0 + timedelta(seconds=1)
    assert again is None


async def test_concurrent_claims_have_exactly_one_winner(job_store: JobStore) -> None:
    job = make_job()
    await job_store.create_jobs([job])

    results = await asyncio.gather(*(job_store.claim_job(job.job_id, T0, LEASE) for _ in range(8)))

    assert sum(result is not None for result in results) == 1


async def test_processing_job_is_reclaimed_after_its_lease_expires(job_store: JobStore) -> None:
    job = make_job()
    await job_store.create_jobs([job])
    await job_store.claim_job(job.job_id, T0, LEASE)

    early = await job_store.claim_job(job.job_id, T0 + timedelta(seconds=LEASE - 1), LEASE)
    late = await job_store.claim_job(job.job_id, T0 + timedelta(seconds=LEASE + 1), LEASE)

    assert early is None
    assert late is not None
    assert late.attempts == 2


async def test_complete_records_one_generation_and_only_once(job_store: JobStore) -> None:
    job = make_job()
    await job_store.create_jobs([job])
    await job_store.claim_job(job.job_id, T0, LEASE)
    generation = make_generation(job)

    first = await job_store.complete_job(job.job_id, generation, T0 + timedelta(seconds=3))
    second = await job_store.complete_job(job.job_id, generation, T0 + timedelta(seconds=4))

    assert (first, second) == (True, False)
    done = await job_store.get_job(job.job_id)
    assert done is not None
    assert done.status is JobStatus.COMPLETED
    assert done.image == generation.image
    assert done.provider == "preview"
    assert done.completed_at == T0 + timedelta(seconds=3)
    assert await job_store.get_generation(job.job_id) == generation
    page = await job_store.list_generations(JobQuery(owner=job.owner))
    assert [item.job_id for item in page.items] == [job.job_id]


async def test_complete_is_refused_unless_processing(job_store: JobStore) -> None:
    job = make_job()
    await job_store.create_jobs([job])

    assert not await job_store.complete_job(job.job_id, make_generation(job), T0)
    assert await job_store.get_generation(job.job_id) is None


async def test_cancelled_job_cannot_complete(job_store: JobStore) -> None:
    job = make_job()
    await job_store.create_jobs([job])
    await job_store.claim_job(job.job_id, T0, LEASE)

    cancelled = await job_store.cancel_job(job.job_id, T0 + timedelta(seconds=1))
    completed = await job_store.complete_job(job.job_id, make_generation(job), T0 + timedelta(seconds=2))

    assert cancelled is not None
    assert cancelled.status is JobStatus.CANCELLED
    assert not completed
    assert await job_store.get_generation(job.job_id) is None


async def test_cancel_leaves_finished_jobs_alone_and_missing_jobs_none(job_store: JobStore) -> None:
    job = make_job()
    await job_store.create_jobs([job])
    await job_store.fail_job(job.job_id, "content_filtered", "flagged", T0)

    after = await job_store.cancel_job(job.job_id, T0 + timedelta(seconds=1))

    assert after is not None
    assert after.status is JobStatus.FAILED
    assert await job_store.cancel_job("00000000-0000-4000-8000-000000000000", T0) is None


async def test_fail_records_reason_once(job_store: JobStore) -> None:
    job = make_job()
    await job_store.create_jobs([job])

    first = await job_store.fail_job(job.job_id, "content_filtered", "flagged by the provider", T0)
    second = await job_store.fail_job(job.job_id, "provider_error", "other", T0)

    assert (first, second) == (True, False)
    failed = await job_store.get_job(job.job_id)
    assert failed is not None
    assert failed.status is JobStatus.FAILED
    assert (failed.error_code, failed.error_message) == ("content_filtered", "flagged by the provider")


async def test_release_returns_processing_job_to_pending(job_store: JobStore) -> None:
    job = make_job()
    await job_store.create_jobs([job])
    await job_store.claim_job(job.job_id, T0, LEASE)

    assert await job_store.release_job(job.job_id, T0 + timedelta(seconds=1))
    assert not await job_store.release_job(job.job_id, T0 + timedelta(seconds=2))
    reclaimed = await job_store.claim_job(job.job_id, T0 + timedelta(seconds=3), LEASE)
    assert reclaimed is not None
    assert reclaimed.attempts == 2


async def test_jobs_list_newest_first_and_only_for_their_owner(job_store: JobStore) -> None:
    alice = [make_job(owner="alice", created_at=T0 + timedelta(seconds=i)) for i in range(3)]
    bob = make_job(owner="bob", created_at=T0 + timedelta(seconds=10))
    await job_store.create_jobs([*alice, bob])

    page = await job_store.list_jobs(JobQuery(owner="alice", limit=10))
    everyone = await job_store.list_jobs(JobQuery(owner=None, limit=10))

    assert [job.job_id for job in page.items] == [job.job_id for job in reversed(alice)]
    assert page.total_count == 3
    assert page.next_cursor is None
    assert everyone.items[0].job_id == bob.job_id
    assert everyone.total_count == 4


async def test_jobs_filter_by_status_model_prompt_and_time(job_store: JobStore) -> None:
    fox = make_job(prompt="A Red FOX in snow", model="sdxl-base", created_at=T0 + timedelta(seconds=1))
    owl = make_job(prompt="an owl", created_at=T0 + timedelta(seconds=2))
    cat = make_job(prompt="a cat", created_at=T0 + timedelta(seconds=3))
    await job_store.create_jobs([fox, owl, cat])
    await job_store.fail_job(owl.job_id, "provider_error", "boom", T0)

    def ids(page: object) -> list[str]:
        return [job.job_id for job in page.items]  # type: ignore[attr-defined]

    failed = await job_store.list_jobs(JobQuery(owner="alice", statuses=frozenset({JobStatus.FAILED})))
    by_model = await job_store.list_jobs(JobQuery(owner="alice", model="sdxl-base"))
    by_text = await job_store.list_jobs(JobQuery(owner="alice", prompt_contains="red fox"))
    window = await job_store.list_jobs(
        JobQuery(
            owner="alice", created_after=T0 + timedelta(seconds=1), created_before=T0 + timedelta(seconds=3)
        )
    )

    assert ids(failed) == [owl.job_id]
    assert failed.total_count == 1
    assert ids(by_model) == [fox.job_id]
    assert ids(by_text) == [fox.job_id]
    assert ids(window) == [owl.job_id]


async def test_cursor_pages_return_every_job_exactly_once_despite_new_inserts(job_store: JobStore) -> None:
    originals = [make_job(created_at=T0 + timedelta(seconds=i)) for i in range(25)]
    await job_store.create_jobs(originals)

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = await job_store.list_jobs(JobQuery(owner="alice", limit=7, cursor=cursor))
        seen += [job.job_id for job in page.items]
        pages += 1
        # A client keeps generating while another pages through the history.
        await job_store.create_jobs([make_job(created_at=T0 + timedelta(seconds=100 + pages))])
        cursor = page.next_cursor
        if cursor is None:
            break

    assert seen == [job.job_id for job in reversed(originals)]
    assert pages == 4


async def test_120_generations_page_exactly_once_while_new_ones_complete(job_store: JobStore) -> None:
    async def complete(jobs: list[object]) -> None:
        await job_store.create_jobs(jobs)  # type: ignore[arg-type]
        for job in jobs:
            await job_store.claim_job(job.job_id, T0, LEASE)  # type: ignore[attr-defined]
            await job_store.complete_job(job.job_id, make_generation(job), T0)  # type: ignore[arg-type, attr-defined]

    originals = [make_job(created_at=T0 + timedelta(milliseconds=i)) for i in range(120)]
    for start in range(0, 120, 20):  # one generate call creates at most 20 jobs
        await complete(originals[start : start + 20])  # type: ignore[arg-type]

    seen: list[str] = []
    cursor = None
    for page_number in range(100):
        page = await job_store.list_generations(JobQuery(owner="alice", limit=13, cursor=cursor))
        seen += [generation.job_id for generation in page.items]
        await complete([make_job(created_at=T0 + timedelta(hours=1, seconds=page_number))])
        cursor = page.next_cursor
        if cursor is None:
            break

    assert len(seen) == len(set(seen)) == 120
    assert seen == [job.job_id for job in reversed(originals)]


async def test_offset_skips_items(job_store: JobStore) -> None:
    jobs = [make_job(created_at=T0 + timedelta(seconds=i)) for i in range(5)]
    await job_store.create_jobs(jobs)

    page = await job_store.list_jobs(JobQuery(owner="alice", limit=2, offset=2))

    assert [job.job_id for job in page.items] == [jobs[2].job_id, jobs[1].job_id]
    assert page.next_cursor is not None


async def test_malformed_cursor_is_an_invalid_request(job_store: JobStore) -> None:
    with pytest.raises(InvalidRequest):
        await job_store.list_jobs(JobQuery(owner="alice", cursor="not-a-cursor"))


async def test_generations_list_per_owner_and_delete(job_store: JobStore) -> None:
    jobs = [
        make_job(owner="alice", created_at=T0 + timedelta(seconds=1)),
        make_job(owner="bob", created_at=T0 + timedelta(seconds=2)),
        make_job(owner="alice", created_at=T0 + timedelta(seconds=3)),
    ]
    await job_store.create_jobs(jobs)
    for job in jobs:
        await job_store.claim_job(job.job_id, T0, LEASE)
        await job_store.complete_job(job.job_id, make_generation(job), T0 + timedelta(seconds=5))

    alice = await job_store.list_generations(JobQuery(owner="alice"))
    deleted = await job_store.delete_generation(jobs[2].job_id)
    deleted_again = await job_store.delete_generation(jobs[2].job_id)
    after = await job_store.list_generations(JobQuery(owner="alice"))
    everyone = await job_store.list_generations(JobQuery(owner=None))

    assert [g.job_id for g in alice.items] == [jobs[2].job_id, jobs[0].job_id]
    assert alice.total_count == 2
    assert (deleted, deleted_again) == (True, False)
    assert [g.job_id for g in after.items] == [jobs[0].job_id]
    assert everyone.total_count == 2
    assert await job_store.get_generation(jobs[2].job_id) is None
    emptied = await job_store.get_job(jobs[2].job_id)
    assert emptied is not None
    assert (emptied.status, emptied.image) == (JobStatus.COMPLETED, None)


async def test_unfinished_jobs_are_listed_oldest_first(job_store: JobStore) -> None:
    jobs = [make_job(created_at=T0 + timedelta(seconds=i)) for i in range(4)]
    await job_store.create_jobs(jobs)
    await job_store.claim_job(jobs[1].job_id, T0, LEASE)
    await job_store.fail_job(jobs[2].job_id, "provider_error", "boom", T0)

    unfinished = await job_store.unfinished_job_ids()

    assert unfinished == [jobs[0].job_id, jobs[1].job_id, jobs[3].job_id]
