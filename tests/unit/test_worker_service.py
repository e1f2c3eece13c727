"""WorkerService: one job in, exactly one stored image and generation out, whatever is redelivered."""

from __future__ import annotations

import asyncio

from PIL import Image

from imagegen.domain.caller import Caller
from imagegen.domain.errors import ProviderError, ReasonCode, StorageError
from imagegen.domain.models import JobStatus
from imagegen.ports import JobQuery
from imagegen.services.delivery import retry_delay_seconds
from imagegen.services.worker import Outcome
from tests.unit.conftest import Core

ALICE = Caller(owner="alice")


async def test_job_completes_with_stored_image_and_generation(core: Core) -> None:
    [job] = await core.jobs.submit(ALICE, "a fox", "sdxl-base", {"width": 512, "height": 256})

    result = await core.worker.process(job.job_id)

    assert result.outcome is Outcome.COMPLETED
    done = await core.store.get_job(job.job_id)
    assert done is not None and done.image is not None
    assert done.status is JobStatus.COMPLETED
    assert done.provider == "scripted"
    assert done.image.key == f"images/{job.job_id}.png"
    assert done.image.url == f"http://img.test/images/{job.job_id}.png"
    stored = await core.images.get(done.image.key)
    assert stored is not None
    with Image.open(__import__("io").BytesIO(stored[0])) as image:
        assert image.size == (512, 256)


async def test_duplicate_delivery_creates_one_generation(core: Core) -> None:
    [job] = await core.jobs.submit(ALICE, "a fox")

    results = await asyncio.gather(*(core.worker.process(job.job_id) for _ in range(3)))
    again = await core.worker.process(job.job_id)

    assert sorted(r.outcome for r in results).count(Outcome.COMPLETED) == 1
    assert again.outcome is Outcome.SKIPPED
    assert len(core.provider.calls) == 1
    page = await core.store.list_generations(JobQuery(owner="alice"))
    assert page.total_count == 1


async def test_transient_error_releases_job_for_retry_then_completes(core: Core) -> None:
    core.provider.script = [ProviderError(ReasonCode.RATE_LIMITED, "capacity", retryable=True)]
    [job] = await core.jobs.submit(ALICE, "a fox")

    first = await core.worker.process(job.job_id)
    between = await core.store.get_job(job.job_id)
    second = await core.worker.process(job.job_id)

    assert first.outcome is Outcome.RETRY
    assert first.reason == "rate_limited"
    assert between is not None and between.status is JobStatus.PENDING
    assert second.outcome is Outcome.COMPLETED


async def test_transient_errors_fail_the_job_after_max_attempts(core: Core) -> None:
    core.provider.script = [ProviderError(ReasonCode.PROVIDER_TIMEOUT, "slow", retryable=True)] * 3
    [job] = await core.jobs.submit(ALICE, "a fox")

    outcomes = [(await core.worker.process(job.job_id)).outcome for _ in range(3)]

    assert outcomes == [Outcome.RETRY, Outcome.RETRY, Outcome.FAILED]
    failed = await core.store.get_job(job.job_id)
    assert failed is not None and failed.error_code == "provider_timeout"


async def test_permanent_error_fails_at_once_with_reason(core: Core) -> None:
    core.provider.script = [ProviderError(ReasonCode.CONTENT_FILTERED, "flagged (3030)")]
    [job] = await core.jobs.submit(ALICE, "a fox")

    result = await core.worker.process(job.job_id)

    assert result.outcome is Outcome.FAILED
    failed = await core.store.get_job(job.job_id)
    assert failed is not None
    assert (failed.status, failed.error_code, failed.error_message) == (
        JobStatus.FAILED,
        "content_filtered",
        "flagged (3030)",
    )
    assert len(core.provider.calls) == 1


async def test_job_cancelled_during_generation_keeps_no_image(core: Core) -> None:
    [job] = await core.jobs.submit(ALICE, "a fox")
    core.provider.release.clear()

    running = asyncio.create_task(core.worker.process(job.job_id))
    while not core.provider.calls:  # the worker is inside the provider call
        await asyncio.sleep(0)
    await core.jobs.cancel(ALICE, job.job_id)
    core.provider.release.set()
    result = await running

    assert result.outcome is Outcome.DISCARDED
    assert await core.images.get(f"images/{job.job_id}.png") is None
    assert await core.store.get_generation(job.job_id) is None
    cancelled = await core.store.get_job(job.job_id)
    assert cancelled is not None and cancelled.status is JobStatus.CANCELLED


async def test_storage_failure_is_retried(core: Core, monkeypatch: object) -> None:
    [job] = await core.jobs.submit(ALICE, "a fox")
    original = core.images.put
    calls = 0

    async def flaky_put(key: str, data: bytes, content_type: str):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        if calls == 1:
            raise StorageError("disk full")
        return await original(key, data, content_type)

    core.images.put = flaky_put  # type: ignore[method-assign]

    first = await core.worker.process(job.job_id)
    second = await core.worker.process(job.job_id)

    assert (first.outcome, second.outcome) == (Outcome.RETRY, Outcome.COMPLETED)


async def test_missing_job_is_skipped(core: Core) -> None:
    result = await core.worker.process("00000000-0000-4000-8000-000000000000")
    assert result.outcome is Outcome.SKIPPED
    assert result.detail == "no such job"


def test_retry_delay_grows_exponentially_with_jitter_and_is_capped() -> None:
    low = [retry_delay_seconds(attempt, rng=lambda: 0.0) for attempt in range(1, 10)]
    high = [retry_delay_seconds(attempt, rng=lambda: 1.0) for attempt in range(1, 10)]

    assert high[:4] == [5, 10, 20, 40]
    assert low[:4] == [2, 5, 10, 20]
    assert max(high) == 300
