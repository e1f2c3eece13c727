"""The delivery policy: what becomes of a job message after the worker service ran, on any queue."""

from __future__ import annotations

import asyncio

import pytest

from imagegen.domain.caller import Caller
from imagegen.domain.errors import ProviderError, ReasonCode
from imagegen.domain.models import JobStatus
from imagegen.ports import QueuedMessage
from imagegen.services.delivery import DeliveryPolicy, DeliveryRules, Disposition
from imagegen.services.worker import Outcome
from tests.unit.conftest import Core

CAPACITY = ProviderError(ReasonCode.RATE_LIMITED, "capacity", retryable=True)
# SQS: a message comes back on its own and moves to the DLQ after the third delivery.
SQS_RULES = DeliveryRules(max_deliveries=3, queue_redelivers=True, backoff=lambda delivery: 0.01 * delivery)
# The local queue: nothing comes back unless asked, without limit.
LOCAL_RULES = DeliveryRules(max_deliveries=None, queue_redelivers=False, backoff=lambda _: 0.01)


def policy(core: Core, rules: DeliveryRules) -> DeliveryPolicy:
    return DeliveryPolicy(lambda: core.worker, core.store, core.queue, core.watcher, core.clock, rules)


async def submitted(core: Core) -> str:
    [job] = await core.jobs.submit(Caller(owner="alice"), "a fox")
    await core.queue.get()  # what the submission queued; each test delivers it itself
    return job.job_id


async def status(core: Core, job_id: str) -> JobStatus:
    job = await core.store.get_job(job_id)
    assert job is not None
    return job.status


@pytest.mark.parametrize("rules", [SQS_RULES, LOCAL_RULES])
async def test_a_completed_job_is_acknowledged(core: Core, rules: DeliveryRules) -> None:
    job_id = await submitted(core)

    verdict = await policy(core, rules).handle(QueuedMessage(job_id=job_id))

    assert verdict.disposition is Disposition.ACKNOWLEDGE
    assert verdict.result is not None and verdict.result.outcome is Outcome.COMPLETED


@pytest.mark.parametrize("rules", [SQS_RULES, LOCAL_RULES])
async def test_a_transient_failure_comes_back_after_the_backoff(core: Core, rules: DeliveryRules) -> None:
    core.provider.script = [CAPACITY]
    job_id = await submitted(core)

    verdict = await policy(core, rules).handle(QueuedMessage(job_id=job_id, delivery_count=1))

    assert verdict.disposition is Disposition.REDELIVER and verdict.delay_seconds == pytest.approx(0.01)
    assert await status(core, job_id) is JobStatus.PENDING
    again = await asyncio.wait_for(core.queue.get(), timeout=5)
    assert again == QueuedMessage(job_id=job_id, delivery_count=2)


async def test_on_the_last_delivery_a_transient_failure_fails_the_job_and_keeps_the_message(
    core: Core,
) -> None:
    core.provider.script = [CAPACITY]
    job_id = await submitted(core)

    verdict = await policy(core, SQS_RULES).handle(QueuedMessage(job_id=job_id, delivery_count=3))

    # The job says why it failed; the message stays, so that the queue moves it to the dead-letter queue.
    assert verdict.disposition is Disposition.KEEP
    assert verdict.gave_up is ReasonCode.RATE_LIMITED
    job = await core.store.get_job(job_id)
    assert job is not None and job.status is JobStatus.FAILED and job.error_code == "rate_limited"
    assert "last delivery" in (job.error_message or "")


async def test_a_crash_is_left_to_a_queue_that_redelivers(core: Core) -> None:
    core.provider.script = [RuntimeError("bug")]
    job_id = await submitted(core)

    verdict = await policy(core, SQS_RULES).handle(QueuedMessage(job_id=job_id, delivery_count=1))

    assert verdict.disposition is Disposition.KEEP and verdict.gave_up is None
    assert await status(core, job_id) is JobStatus.PROCESSING  # claimed; its lease decides when it is free


async def test_a_crash_fails_the_job_where_nothing_would_bring_the_message_back(core: Core) -> None:
    core.provider.script = [RuntimeError("bug")]
    job_id = await submitted(core)

    verdict = await policy(core, LOCAL_RULES).handle(QueuedMessage(job_id=job_id))

    assert verdict.disposition is Disposition.ACKNOWLEDGE
    assert verdict.gave_up is ReasonCode.INTERNAL_ERROR
    assert await status(core, job_id) is JobStatus.FAILED


async def test_out_of_time_the_job_is_handed_back_and_comes_back_later(core: Core) -> None:
    core.provider.latency = 5.0
    job_id = await submitted(core)

    verdict = await policy(core, SQS_RULES).handle(QueuedMessage(job_id=job_id), budget_seconds=0.05)

    assert verdict.disposition is Disposition.REDELIVER
    assert await status(core, job_id) is JobStatus.PENDING


async def test_out_of_time_on_the_last_delivery_fails_the_job_as_a_timeout(core: Core) -> None:
    core.provider.latency = 5.0
    job_id = await submitted(core)

    verdict = await policy(core, SQS_RULES).handle(
        QueuedMessage(job_id=job_id, delivery_count=3), budget_seconds=0.05
    )

    assert verdict.gave_up is ReasonCode.PROVIDER_TIMEOUT
    assert await status(core, job_id) is JobStatus.FAILED


async def test_a_job_held_by_another_worker_is_kept_where_the_queue_redelivers(core: Core) -> None:
    job_id = await submitted(core)
    await core.store.claim_job(job_id, core.clock.now(), 60)  # another worker's live lease

    sqs = await policy(core, SQS_RULES).handle(QueuedMessage(job_id=job_id))
    local = await policy(core, LOCAL_RULES).handle(QueuedMessage(job_id=job_id))

    assert sqs.disposition is Disposition.KEEP
    assert local.disposition is Disposition.ACKNOWLEDGE
    assert await status(core, job_id) is JobStatus.PROCESSING


async def test_a_worker_that_cannot_be_built_is_a_failed_delivery(core: Core) -> None:
    job_id = await submitted(core)

    def broken() -> object:
        raise RuntimeError("the secret could not be read")

    verdict = await DeliveryPolicy(
        broken,  # type: ignore[arg-type]
        core.store,
        core.queue,
        core.watcher,
        core.clock,
        SQS_RULES,
    ).handle(QueuedMessage(job_id=job_id, delivery_count=3))

    assert verdict.gave_up is ReasonCode.INTERNAL_ERROR
    assert await status(core, job_id) is JobStatus.FAILED


@pytest.mark.parametrize("rules", [SQS_RULES, LOCAL_RULES])
async def test_a_delivery_stopped_by_a_clean_shutdown_gives_the_job_back_unattempted(
    core: Core, rules: DeliveryRules
) -> None:
    core.provider.release.clear()  # the generation is under way when the stop comes
    job_id = await submitted(core)
    delivery = asyncio.create_task(policy(core, rules).handle(QueuedMessage(job_id=job_id)))
    while not core.provider.calls:
        await asyncio.sleep(0)

    delivery.cancel()
    with pytest.raises(asyncio.CancelledError):
        await delivery

    job = await core.store.get_job(job_id)
    assert job is not None
    assert (job.status, job.attempts) == (JobStatus.PENDING, 0)
