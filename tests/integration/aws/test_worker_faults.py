"""The image_worker handler under the faults SQS and Workers AI really produce, on moto + respx.

Each test feeds real SQS messages (received from the moto queue, with their system attributes) to the
real handler through the same SQS event source `serve --backend aws` uses, which deletes what the handler did not
report failed, as Lambda's event source mapping does.
"""

from __future__ import annotations

import asyncio
import functools
import io
import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from imagegen.adapters.aws.dynamodb_store import DynamoDBJobStore
from imagegen.adapters.aws.r2_store import R2ImageStore
from imagegen.domain.caller import Caller
from imagegen.domain.models import Job, JobStatus
from imagegen.runtime.aws import AwsRuntime
from imagegen.runtime.lambda_container import container_loop
from tests.integration.aws.stack import MAX_RECEIVE_COUNT, WORKERS_AI_URL, Stack, flux_answer, json_lines
from tests.support.aws import GENERATIONS_TABLE
from tests.support.builders import ManualClock


def submit(stack: Stack, prompt: str = "a lighthouse at dusk") -> str:
    jobs = container_loop().run_until_complete(stack.worker.runtime().jobs.submit(Caller(), prompt))
    return jobs[0].job_id


def job(stack: Stack, job_id: str) -> Job:
    found = container_loop().run_until_complete(stack.worker.runtime().store.get_job(job_id))
    assert found is not None
    return found


def generations(stack: Stack) -> int:
    return int(
        stack.dynamodb.scan(TableName=GENERATIONS_TABLE, Select="COUNT")["Count"]
    )  # test-side check only


def cloudflare_error(code: int, status: int = 400, message: str | None = None) -> httpx.Response:
    return httpx.Response(
        status,
        json={
            "success": False,
            "errors": [{"code": code, "message": message or f"error {code}"}],
            "result": None,
        },
    )


@pytest.fixture
def clock(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> ManualClock:
    """The worker container's clock, moved by the test: leases expire without waiting for them."""
    manual = ManualClock()
    monkeypatch.setattr(stack.worker, "AwsRuntime", functools.partial(AwsRuntime, clock=manual))
    stack.worker.runtime.cache_clear()
    return manual


@pytest.fixture
def workers_ai() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


def test_duplicate_delivery_in_one_batch_creates_one_generation_and_one_object(
    stack: Stack, workers_ai: respx.MockRouter
) -> None:
    # Given one job whose message SQS delivered twice (at-least-once delivery)
    job_id = submit(stack)
    stack.send(json.dumps({"job_id": job_id}))

    async def generating(request: httpx.Request) -> httpx.Response:
        # The winner is still generating when the other copy tries to claim the job, however busy the
        # machine is: a claim that came after completion would be a different case (acknowledged).
        await asyncio.sleep(0.5)
        return httpx.Response(200, json=flux_answer())

    route = workers_ai.post(WORKERS_AI_URL).mock(side_effect=generating)

    # When both copies arrive in one batch and are processed concurrently
    result = stack.deliver()

    # Then the copy that lost the claim is handed back to SQS (the winner might still crash)
    assert len(result["batchItemFailures"]) == 1  # type: ignore[index]

    # And when it comes back, the job is finished, so it is acknowledged without work
    stack.expire_visibility()
    assert stack.deliver() == {"batchItemFailures": []}

    # And Workers AI ran once, and there is one generation and one object
    assert route.call_count == 1
    assert job(stack, job_id).status is JobStatus.COMPLETED
    assert generations(stack) == 1
    assert [item["Key"] for item in stack.objects()] == [f"images/{job_id}.jpg"]
    assert stack.queued() == 0


def test_duplicate_delivery_after_completion_is_skipped(stack: Stack, workers_ai: respx.MockRouter) -> None:
    job_id = submit(stack)
    route = workers_ai.post(WORKERS_AI_URL).mock(return_value=httpx.Response(200, json=flux_answer()))
    stack.deliver()

    stack.send(json.dumps({"job_id": job_id}))
    result = stack.deliver()

    assert result == {"batchItemFailures": []}
    assert route.call_count == 1
    assert generations(stack) == 1 and len(stack.objects()) == 1


def test_crash_after_the_provider_call_is_retried_to_one_completion(
    stack: Stack, workers_ai: respx.MockRouter, monkeypatch: pytest.MonkeyPatch, clock: ManualClock
) -> None:
    # Given a worker that dies after Workers AI answered, before the image is stored
    monkeypatch.setenv("JOB_LEASE_SECONDS", "60")
    job_id = submit(stack)
    route = workers_ai.post(WORKERS_AI_URL).mock(return_value=httpx.Response(200, json=flux_answer()))
    real_put = R2ImageStore.put
    crashes = iter([True])

    async def put_then_crash(self: R2ImageStore, key: str, data: bytes, content_type: str) -> Any:
        if next(crashes, False):
            raise RuntimeError("simulated crash: the container died")
        return await real_put(self, key, data, content_type)

    monkeypatch.setattr(R2ImageStore, "put", put_then_crash)
    first = stack.deliver()
    assert len(first["batchItemFailures"]) == 1  # type: ignore[index]
    assert job(stack, job_id).status is JobStatus.PROCESSING and stack.objects() == []

    # When the message comes back before the crashed worker's lease expired
    stack.expire_visibility()
    early = stack.deliver()

    # Then it is handed back again rather than deleted: the job must not be stranded in 'processing'
    assert len(early["batchItemFailures"]) == 1  # type: ignore[index]
    assert route.call_count == 1

    # When it comes back once the lease expired
    clock.advance(61)
    stack.expire_visibility()
    second = stack.deliver()

    # Then the job completes exactly once
    assert second == {"batchItemFailures": []}
    assert route.call_count == 2
    done = job(stack, job_id)
    assert done.status is JobStatus.COMPLETED and done.attempts == 2
    assert generations(stack) == 1 and len(stack.objects()) == 1
    assert stack.queued() == 0


def test_crash_after_the_put_overwrites_the_same_object_and_completes_once(
    stack: Stack, workers_ai: respx.MockRouter, monkeypatch: pytest.MonkeyPatch, clock: ManualClock
) -> None:
    monkeypatch.setenv("JOB_LEASE_SECONDS", "60")
    job_id = submit(stack)
    workers_ai.post(WORKERS_AI_URL).mock(return_value=httpx.Response(200, json=flux_answer()))
    real_complete = DynamoDBJobStore.complete_job
    crashes = iter([True])

    async def crash_before_completion(self: DynamoDBJobStore, *args: Any) -> bool:
        if next(crashes, False):
            raise RuntimeError("simulated crash after the put")
        return await real_complete(self, *args)

    monkeypatch.setattr(DynamoDBJobStore, "complete_job", crash_before_completion)
    first = stack.deliver()
    assert len(first["batchItemFailures"]) == 1  # type: ignore[index]
    assert len(stack.objects()) == 1 and generations(stack) == 0

    clock.advance(61)
    stack.expire_visibility()
    second = stack.deliver()

    assert second == {"batchItemFailures": []}
    assert job(stack, job_id).status is JobStatus.COMPLETED
    assert generations(stack) == 1
    assert [item["Key"] for item in stack.objects()] == [f"images/{job_id}.jpg"]


def test_provider_429_fails_the_item_and_the_redelivery_succeeds(
    stack: Stack, workers_ai: respx.MockRouter
) -> None:
    # Given Workers AI out of capacity once (the provider's own retries are off: WORKERS_AI_MAX_RETRIES=0)
    job_id = submit(stack)
    route = workers_ai.post(WORKERS_AI_URL).mock(
        side_effect=[cloudflare_error(3040, status=429), httpx.Response(200, json=flux_answer())]
    )

    visibility: list[int] = []
    stack.worker.runtime().sqs.meta.events.register(
        "provide-client-params.sqs.ChangeMessageVisibility",
        lambda params, **_: visibility.append(params["VisibilityTimeout"]),
    )

    # When the first delivery meets the 429
    first = stack.deliver()

    # Then only that message is reported failed, and the job is pending again for the retry
    assert [item["itemIdentifier"] for item in first["batchItemFailures"]] != []  # type: ignore[index]
    assert job(stack, job_id).status is JobStatus.PENDING
    assert stack.queued() == 1
    # and it comes back after a short backoff, not after the 12-minute visibility timeout
    assert len(visibility) == 1 and 1 <= visibility[0] <= 10

    # When SQS redelivers it
    stack.expire_visibility()
    second = stack.deliver()

    # Then it completes on the second attempt
    assert second == {"batchItemFailures": []}
    assert route.call_count == 2
    done = job(stack, job_id)
    assert done.status is JobStatus.COMPLETED and done.attempts == 2


def test_content_flagged_3030_fails_at_once_without_retry(stack: Stack, workers_ai: respx.MockRouter) -> None:
    job_id = submit(stack, "something the filter flags")
    route = workers_ai.post(WORKERS_AI_URL).mock(
        return_value=cloudflare_error(3030, message="AiError: Input prompt contains NSFW content.")
    )

    result = stack.deliver()

    assert result == {"batchItemFailures": []}
    assert route.call_count == 1
    failed = job(stack, job_id)
    assert failed.status is JobStatus.FAILED and failed.error_code == "content_filtered"
    assert stack.queued() == 0 and stack.objects() == []


def test_a_malformed_body_is_logged_and_dropped(
    stack: Stack, workers_ai: respx.MockRouter, handler_logs: io.StringIO
) -> None:
    route = workers_ai.post(WORKERS_AI_URL)
    for body in ("not json at all", json.dumps({"job": "x"}), json.dumps({"job_id": "not-a-uuid"})):
        stack.send(body)

    result = stack.deliver()

    assert result == {"batchItemFailures": []}
    assert stack.queued() == 0 and stack.queued(stack.dlq_url) == 0
    assert route.call_count == 0
    dropped = [
        line
        for line in json_lines(handler_logs.getvalue())
        if line.get("message") == "malformed job message dropped"
    ]
    assert len(dropped) == 3
    assert all(line["level"] == "ERROR" and line.get("message_id") for line in dropped)


def test_a_message_for_a_missing_job_is_acknowledged_without_work(
    stack: Stack, workers_ai: respx.MockRouter
) -> None:
    route = workers_ai.post(WORKERS_AI_URL)
    stack.send(json.dumps({"job_id": str(uuid.uuid4())}))

    result = stack.deliver()

    assert result == {"batchItemFailures": []}
    assert route.call_count == 0
    assert stack.queued() == 0


def test_the_last_delivery_marks_the_job_failed_and_the_message_goes_to_the_dlq(
    stack: Stack, workers_ai: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a job whose provider stays out of capacity, with more worker attempts than deliveries
    monkeypatch.setenv("MAX_ATTEMPTS", "10")
    stack.worker.runtime.cache_clear()
    job_id = submit(stack)
    workers_ai.post(WORKERS_AI_URL).mock(return_value=cloudflare_error(3040, status=429))

    # When SQS delivers it MAX_RECEIVE_COUNT (3) times
    for delivery in range(3):
        result = stack.deliver()
        assert len(result["batchItemFailures"]) == 1, delivery  # type: ignore[index]
        stack.expire_visibility()

    # Then the job is failed with the transient reason, and the next receive moves the message to the DLQ
    assert stack.deliver() is None
    failed = job(stack, job_id)
    assert failed.status is JobStatus.FAILED
    assert failed.error_code == "rate_limited"
    assert "last delivery" in (failed.error_message or "")
    assert stack.queued() == 0
    assert stack.queued(stack.dlq_url) == 1


def test_every_log_line_of_a_record_carries_its_job_id_and_metrics_are_emf(
    stack: Stack, workers_ai: respx.MockRouter, handler_logs: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = submit(stack, "a cat"), submit(stack, "a dog")
    workers_ai.post(WORKERS_AI_URL).mock(return_value=httpx.Response(200, json=flux_answer()))
    capsys.readouterr()

    stack.deliver()

    logs = json_lines(handler_logs.getvalue())
    lines = json_lines(capsys.readouterr().out)
    per_job = [line for line in logs if line.get("job_id")]
    assert {line["job_id"] for line in per_job} == {first, second}
    processed = [line for line in logs if line["message"] == "job processed"]
    assert {line["job_id"] for line in processed} == {first, second}
    assert any(
        line["message"] == "workers ai answered" and line.get("job_id") in (first, second) for line in logs
    )
    metrics = [line for line in lines if "_aws" in line]
    completed = [line for line in metrics if "JobsCompleted" in line]
    by_model = [line for line in completed if "model" in line]
    assert len(by_model) == 2 and all(line["model"] == "flux-schnell" for line in by_model)
    # ...and each completion once more in the service-wide total the alarms watch
    assert [line.get("service") for line in completed if "model" not in line] == ["image_worker"] * 2
    assert completed[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Imagegen"
    assert any("GenerationLatency" in line for line in metrics)


def test_a_worker_that_cannot_be_built_still_fails_the_job_on_the_last_delivery(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a job, and a worker that cannot be built (say the secret cannot be read)
    job_id = submit(stack)

    def broken() -> None:
        raise RuntimeError("AccessDenied reading the secret")

    monkeypatch.setattr(stack.worker.runtime(), "worker", broken)

    # When every delivery the queue allows fails
    for _ in range(MAX_RECEIVE_COUNT):
        stack.deliver()
        stack.expire_visibility()

    # Then the job is failed (not left pending behind a message in the DLQ)
    failed = job(stack, job_id)
    assert failed.status is JobStatus.FAILED and failed.error_code == "internal_error"


def test_an_invocation_about_to_time_out_hands_the_job_back(
    stack: Stack, workers_ai: respx.MockRouter
) -> None:
    # Given Workers AI slower than what is left of the invocation (10 s margin + 0.3 s of work)
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(2)
        return httpx.Response(200, json=flux_answer())

    workers_ai.post(WORKERS_AI_URL).mock(side_effect=slow)
    job_id = submit(stack)
    visibility: list[int] = []
    stack.worker.runtime().sqs.meta.events.register(
        "provide-client-params.sqs.ChangeMessageVisibility",
        lambda params, **_: visibility.append(params["VisibilityTimeout"]),
    )

    # When the worker runs with 10.3 s left
    result = stack.deliver(timeout_seconds=10.3)

    # Then it gives up in time: the job is pending again and the message comes back soon
    assert result is not None and len(result["batchItemFailures"]) == 1
    assert job(stack, job_id).status is JobStatus.PENDING
    assert len(visibility) == 1 and visibility[0] <= 10
