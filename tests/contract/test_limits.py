"""JobStore contract, limits: every store checks a client's limits and creates its jobs in one atomic step."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from imagegen.domain.limits import ClientLimits, LimitExceeded, utc_day
from imagegen.domain.models import Job
from imagegen.ports import JobStore
from tests.support.builders import T0, make_generation, make_job

ONLY_IN_FLIGHT = ClientLimits(jobs_in_flight=2, images_per_day=None, daily_spend_usd=None)
ONLY_PER_DAY = ClientLimits(jobs_in_flight=None, images_per_day=3, daily_spend_usd=None)
ONLY_SPEND = ClientLimits(jobs_in_flight=None, images_per_day=None, daily_spend_usd=0.05)


def priced(cost: float, **kwargs: object) -> Job:
    return make_job(**kwargs).model_copy(update={"estimated_cost_usd": cost})  # type: ignore[arg-type]


async def test_jobs_in_flight_are_limited_and_a_finished_job_frees_its_slot(job_store: JobStore) -> None:
    first, second = make_job(), make_job()
    await job_store.create_jobs([first, second], ONLY_IN_FLIGHT)

    with pytest.raises(LimitExceeded) as refused:
        await job_store.create_jobs([make_job()], ONLY_IN_FLIGHT)
    assert (refused.value.limit, refused.value.used, refused.value.allowed) == ("jobs_in_flight", 2, 2)
    assert refused.value.resets_at is None

    await job_store.claim_job(first.job_id, T0, 60)
    await job_store.complete_job(first.job_id, make_generation(first), T0 + timedelta(seconds=1))
    await job_store.create_jobs([make_job()], ONLY_IN_FLIGHT)
    assert (await job_store.day_usage("alice", utc_day(T0))).in_flight == 2


async def test_a_failed_or_cancelled_job_leaves_flight_too(job_store: JobStore) -> None:
    first, second = make_job(), make_job()
    await job_store.create_jobs([first, second], ONLY_IN_FLIGHT)

    await job_store.fail_job(first.job_id, "provider_error", "boom", T0)
    await job_store.cancel_job(second.job_id, T0)

    assert (await job_store.day_usage("alice", utc_day(T0))).in_flight == 0
    await job_store.create_jobs([make_job(), make_job()], ONLY_IN_FLIGHT)


async def test_images_per_day_count_only_that_days_jobs_of_that_owner(job_store: JobStore) -> None:
    yesterday = T0 - timedelta(days=1)
    await job_store.create_jobs([make_job(created_at=yesterday) for _ in range(3)], ONLY_PER_DAY)
    await job_store.create_jobs([make_job(owner="bob") for _ in range(3)], ONLY_PER_DAY)
    await job_store.create_jobs([make_job(), make_job()], ONLY_PER_DAY)

    with pytest.raises(LimitExceeded) as refused:
        await job_store.create_jobs([make_job(), make_job()], ONLY_PER_DAY)

    assert (refused.value.limit, refused.value.used, refused.value.asked) == ("images_per_day", 2, 2)
    assert refused.value.resets_at == (T0 + timedelta(days=1)).replace(hour=0, minute=0, second=0)
    usage = await job_store.day_usage("alice", utc_day(T0))
    assert usage.jobs_today == 2
    await job_store.create_jobs([make_job()], ONLY_PER_DAY)  # the last one still fits


async def test_daily_spend_adds_up_the_estimates(job_store: JobStore) -> None:
    await job_store.create_jobs([priced(0.02), priced(0.02)], ONLY_SPEND)

    with pytest.raises(LimitExceeded) as refused:
        await job_store.create_jobs([priced(0.02)], ONLY_SPEND)

    assert refused.value.limit == "daily_spend_usd"
    assert refused.value.used == pytest.approx(0.04)
    assert (await job_store.day_usage("alice", utc_day(T0))).spend_today_usd == pytest.approx(0.04)
    await job_store.create_jobs([priced(0.01)], ONLY_SPEND)


async def test_a_refused_batch_creates_nothing(job_store: JobStore) -> None:
    batch = [make_job() for _ in range(3)]

    with pytest.raises(LimitExceeded):
        await job_store.create_jobs(batch, ONLY_IN_FLIGHT)

    assert [await job_store.get_job(job.job_id) for job in batch] == [None, None, None]
    assert (await job_store.day_usage("alice", utc_day(T0))).jobs_today == 0


async def test_two_calls_never_both_take_the_last_slot(job_store: JobStore) -> None:
    one_slot = ClientLimits(jobs_in_flight=1, images_per_day=None, daily_spend_usd=None)

    outcomes = await asyncio.gather(
        *(job_store.create_jobs([make_job()], one_slot) for _ in range(6)), return_exceptions=True
    )

    assert sum(outcome is None for outcome in outcomes) == 1
    assert all(isinstance(outcome, LimitExceeded) for outcome in outcomes if outcome is not None)
    assert (await job_store.day_usage("alice", utc_day(T0))).in_flight == 1


async def test_without_limits_nothing_is_counted_against_anyone(job_store: JobStore) -> None:
    await job_store.create_jobs([make_job() for _ in range(20)])

    usage = await job_store.day_usage("alice", utc_day(T0))
    assert (usage.in_flight, usage.jobs_today) == (20, 20)
