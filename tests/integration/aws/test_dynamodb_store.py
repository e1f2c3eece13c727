"""DynamoDBJobStore on moto: the behaviour the contract suite checks plus what only DynamoDB has
(counters, no Scan, cursors that survive status changes, conditional writes under races)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from imagegen.adapters.aws import schema
from imagegen.adapters.aws.dynamodb_items import COUNTS_ALL_KEY
from imagegen.adapters.aws.dynamodb_store import DynamoDBJobStore
from imagegen.domain.models import Generation, ImageRef, Job, JobStatus
from imagegen.ports import JobQuery
from tests.support.aws import JOBS_TABLE

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def make_job(
    owner: str = "alice", minute: int = 0, prompt: str = "a red fox", model: str = "flux-schnell"
) -> Job:
    at = T0 + timedelta(minutes=minute)
    return Job(
        job_id=str(uuid.uuid4()), owner=owner, prompt=prompt, model=model, created_at=at, updated_at=at
    )


def generation_for(job: Job) -> Generation:
    key = f"images/{job.job_id}.jpg"
    return Generation(
        job_id=job.job_id,
        owner=job.owner,
        prompt=job.prompt,
        model=job.model,
        provider="workers-ai",
        image=ImageRef(key=key, url=f"https://img.example/{key}", content_type="image/jpeg", size_bytes=3),
        created_at=job.created_at,
    )


async def test_given_a_pending_job_when_two_workers_claim_it_then_exactly_one_wins(
    dynamo_store: DynamoDBJobStore,
) -> None:
    job = make_job()
    await dynamo_store.create_jobs([job])

    results = await asyncio.gather(*(dynamo_store.claim_job(job.job_id, T0, 300) for _ in range(6)))

    winners = [result for result in results if result is not None]
    assert len(winners) == 1
    assert winners[0].status is JobStatus.PROCESSING
    assert winners[0].attempts == 1


async def test_given_a_processing_job_when_completed_twice_then_one_generation_is_recorded(
    dynamo_store: DynamoDBJobStore,
) -> None:
    job = make_job()
    await dynamo_store.create_jobs([job])
    await dynamo_store.claim_job(job.job_id, T0, 300)

    first = await dynamo_store.complete_job(job.job_id, generation_for(job), T0)
    second = await dynamo_store.complete_job(job.job_id, generation_for(job), T0)

    assert (first, second) == (True, False)
    stored = await dynamo_store.get_job(job.job_id)
    assert stored is not None and stored.status is JobStatus.COMPLETED
    assert stored.image is not None and stored.image.key == f"images/{job.job_id}.jpg"
    page = await dynamo_store.list_generations(JobQuery(owner="alice"))
    assert [item.job_id for item in page.items] == [job.job_id]
    assert page.total_count == 1


async def test_given_a_cancelled_job_when_the_worker_completes_then_nothing_is_recorded(
    dynamo_store: DynamoDBJobStore,
) -> None:
    job = make_job()
    await dynamo_store.create_jobs([job])
    await dynamo_store.claim_job(job.job_id, T0, 300)
    cancelled = await dynamo_store.cancel_job(job.job_id, T0)

    completed = await dynamo_store.complete_job(job.job_id, generation_for(job), T0)

    assert cancelled is not None and cancelled.status is JobStatus.CANCELLED
    assert completed is False
    assert await dynamo_store.get_generation(job.job_id) is None


async def test_given_an_expired_lease_when_claimed_again_then_the_job_is_taken_over(
    dynamo_store: DynamoDBJobStore,
) -> None:
    job = make_job()
    await dynamo_store.create_jobs([job])
    await dynamo_store.claim_job(job.job_id, T0, 60)

    live = await dynamo_store.claim_job(job.job_id, T0 + timedelta(seconds=30), 60)
    expired = await dynamo_store.claim_job(job.job_id, T0 + timedelta(seconds=61), 60)

    assert live is None
    assert expired is not None and expired.attempts == 2


async def test_given_a_released_job_when_claimed_then_attempts_accumulate(
    dynamo_store: DynamoDBJobStore,
) -> None:
    job = make_job()
    await dynamo_store.create_jobs([job])
    await dynamo_store.claim_job(job.job_id, T0, 300)

    released = await dynamo_store.release_job(job.job_id, T0)
    again = await dynamo_store.claim_job(job.job_id, T0, 300)

    assert released is True
    assert again is not None and again.attempts == 2
    assert await dynamo_store.release_job(str(uuid.uuid4()), T0) is False


async def test_given_a_terminal_job_when_failed_then_it_is_unchanged(dynamo_store: DynamoDBJobStore) -> None:
    job = make_job()
    await dynamo_store.create_jobs([job])

    assert await dynamo_store.fail_job(job.job_id, "content_filtered", "flagged", T0) is True
    assert await dynamo_store.fail_job(job.job_id, "internal_error", "again", T0) is False

    stored = await dynamo_store.get_job(job.job_id)
    assert stored is not None and stored.error_code == "content_filtered"
    assert await dynamo_store.cancel_job(str(uuid.uuid4()), T0) is None


async def test_given_25_jobs_when_paging_with_cursors_then_every_job_appears_once_newest_first(
    dynamo_store: DynamoDBJobStore,
) -> None:
    jobs = [make_job(minute=minute) for minute in range(25)]
    await dynamo_store.create_jobs(jobs[:20])
    await dynamo_store.create_jobs(jobs[20:])
    await dynamo_store.create_jobs([make_job(owner="bob")])

    seen: list[str] = []
    cursor = None
    while True:
        page = await dynamo_store.list_jobs(JobQuery(owner="alice", limit=10, cursor=cursor))
        assert page.total_count == 25
        seen += [job.job_id for job in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break

    assert seen == [job.job_id for job in reversed(jobs)]


async def test_given_a_cursor_when_its_job_changes_status_then_the_next_page_is_still_right(
    dynamo_store: DynamoDBJobStore,
) -> None:
    jobs = [make_job(minute=minute) for minute in range(5)]
    await dynamo_store.create_jobs(jobs)
    first = await dynamo_store.list_jobs(
        JobQuery(owner="alice", statuses=frozenset({JobStatus.PENDING}), limit=2)
    )
    await dynamo_store.fail_job(first.items[-1].job_id, "internal_error", "boom", T0)

    second = await dynamo_store.list_jobs(
        JobQuery(owner="alice", statuses=frozenset({JobStatus.PENDING}), limit=2, cursor=first.next_cursor)
    )

    assert [job.job_id for job in second.items] == [jobs[2].job_id, jobs[1].job_id]
    assert second.total_count == 4


async def test_given_mixed_jobs_when_filtering_then_counts_and_items_match(
    dynamo_store: DynamoDBJobStore,
) -> None:
    fox = make_job(minute=1, prompt="A Red FOX in snow")
    owl = make_job(minute=2, prompt="an owl", model="sdxl-base")
    late = make_job(minute=3, prompt="a fox at dusk")
    await dynamo_store.create_jobs([fox, owl, late, make_job(owner="bob", minute=4, prompt="fox")])
    await dynamo_store.claim_job(owl.job_id, T0, 300)

    by_text = await dynamo_store.list_jobs(JobQuery(owner="alice", prompt_contains="fox"))
    by_model = await dynamo_store.list_jobs(JobQuery(owner="alice", model="sdxl-base"))
    by_time = await dynamo_store.list_jobs(
        JobQuery(owner="alice", created_after=fox.created_at, created_before=late.created_at)
    )
    by_statuses = await dynamo_store.list_jobs(
        JobQuery(owner="alice", statuses=frozenset({JobStatus.PENDING, JobStatus.PROCESSING}))
    )
    processing = await dynamo_store.list_jobs(
        JobQuery(owner="alice", statuses=frozenset({JobStatus.PROCESSING}))
    )
    admin = await dynamo_store.list_jobs(JobQuery(owner=None, prompt_contains="fox", limit=2))

    assert [job.job_id for job in by_text.items] == [late.job_id, fox.job_id]
    assert by_text.total_count == 2
    assert [job.job_id for job in by_model.items] == [owl.job_id]
    assert [job.job_id for job in by_time.items] == [owl.job_id]  # both bounds are exclusive
    assert by_statuses.total_count == 3
    assert [job.job_id for job in processing.items] == [owl.job_id] and processing.total_count == 1
    assert admin.total_count == 3 and len(admin.items) == 2 and admin.next_cursor is not None


async def test_given_an_offset_when_listing_then_items_are_skipped(dynamo_store: DynamoDBJobStore) -> None:
    jobs = [make_job(minute=minute) for minute in range(6)]
    await dynamo_store.create_jobs(jobs)

    page = await dynamo_store.list_jobs(JobQuery(owner="alice", limit=2, offset=3))

    assert [job.job_id for job in page.items] == [jobs[2].job_id, jobs[1].job_id]
    assert page.next_cursor is not None


async def test_given_unfinished_jobs_of_several_owners_then_they_are_listed_oldest_first(
    dynamo_store: DynamoDBJobStore,
) -> None:
    old = make_job(owner="bob", minute=0)
    mid = make_job(owner="alice", minute=1)
    done = make_job(owner="alice", minute=2)
    new = make_job(owner="carol", minute=3)
    await dynamo_store.create_jobs([old, mid, done])
    await dynamo_store.create_jobs([new])
    await dynamo_store.claim_job(mid.job_id, T0, 300)
    await dynamo_store.fail_job(done.job_id, "internal_error", "x", T0)

    assert await dynamo_store.unfinished_job_ids() == [old.job_id, mid.job_id, new.job_id]


async def test_given_counter_items_then_they_never_appear_as_jobs(
    dynamo_store: DynamoDBJobStore, dynamodb: Any
) -> None:
    await dynamo_store.create_jobs([make_job()])

    counts = dynamodb.get_item(TableName=JOBS_TABLE, Key={schema.PARTITION_KEY: {"S": COUNTS_ALL_KEY}})

    assert counts["Item"]["n_jobs"] == {"N": "1"}
    assert await dynamo_store.get_job(COUNTS_ALL_KEY) is None
    admin = await dynamo_store.list_jobs(JobQuery(owner=None))
    assert len(admin.items) == 1


async def test_given_a_generation_when_deleted_then_it_is_gone_and_uncounted(
    dynamo_store: DynamoDBJobStore,
) -> None:
    job = make_job()
    await dynamo_store.create_jobs([job])
    await dynamo_store.claim_job(job.job_id, T0, 300)
    await dynamo_store.complete_job(job.job_id, generation_for(job), T0)

    assert await dynamo_store.delete_generation(job.job_id) is True
    assert await dynamo_store.delete_generation(job.job_id) is False
    page = await dynamo_store.list_generations(JobQuery(owner=None))
    assert page.items == [] and page.total_count == 0


async def test_given_a_duplicate_job_id_when_created_then_nothing_is_written(
    dynamo_store: DynamoDBJobStore,
) -> None:
    job = make_job()
    await dynamo_store.create_jobs([job])

    try:
        await dynamo_store.create_jobs([make_job(), job])
    except Exception as exc:
        assert type(exc).__module__.startswith("imagegen"), "boto3 errors must not leak"
    else:
        raise AssertionError("a duplicate id must be rejected")

    assert (await dynamo_store.list_jobs(JobQuery(owner="alice"))).total_count == 1
