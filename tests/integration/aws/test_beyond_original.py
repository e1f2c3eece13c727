"""Beyond the original, on the AWS path (moto + respx): isolation, cancel, delete, resources, usage.

Every call goes through the real mcp_api handler with API Gateway events; images are made by the real
image_worker handler from real SQS messages.
"""

from __future__ import annotations

import base64
import io
import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx
from PIL import Image

from tests.integration.aws.events import LambdaContext, http_api_v2, result_of, rpc, tool_call
from tests.integration.aws.stack import (
    AUTH_TOKEN,
    BUCKET,
    OTHER_TOKEN,
    WORKERS_AI_URL,
    Stack,
    flux_answer,
    jpeg_bytes,
)


@pytest.fixture
def workers_ai() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


def call(stack: Stack, tool: str, arguments: dict[str, Any], token: str = AUTH_TOKEN) -> dict[str, Any]:
    return result_of(
        stack.api.lambda_handler(http_api_v2(tool_call(tool, arguments), token=token), LambdaContext())
    )


def generate_and_complete(stack: Stack, workers_ai: respx.MockRouter, token: str = AUTH_TOKEN) -> str:
    workers_ai.post(WORKERS_AI_URL).respond(200, json=flux_answer(jpeg_bytes((320, 200))))
    job_id: str = call(stack, "generate_image", {"prompt": "a kestrel"}, token)["structuredContent"]["job_id"]
    assert stack.deliver() == {"batchItemFailures": []}
    return job_id


def test_clients_with_different_keys_never_see_each_others_jobs_images_or_usage(
    stack: Stack, workers_ai: respx.MockRouter
) -> None:
    # Given a job of the default client, completed by the worker
    job_id = generate_and_complete(stack, workers_ai)

    # When the other client looks for it in every way the tools allow
    other = {
        "status": call(stack, "get_job_status", {"job_id": job_id}, OTHER_TOKEN),
        "delete": call(stack, "delete_generation", {"job_id": job_id}, OTHER_TOKEN),
        "cancel": call(stack, "cancel_job", {"job_id": job_id}, OTHER_TOKEN),
    }
    jobs = call(stack, "list_jobs", {}, OTHER_TOKEN)["structuredContent"]
    images = call(stack, "list_generations", {}, OTHER_TOKEN)["structuredContent"]
    usage = call(stack, "get_usage", {}, OTHER_TOKEN)["structuredContent"]
    read = stack.api.lambda_handler(
        http_api_v2(rpc("resources/read", {"uri": f"image://{job_id}"}), token=OTHER_TOKEN), LambdaContext()
    )

    # Then it reads as not found everywhere and its own history is empty
    for result in other.values():
        assert result["isError"] is True and "No job with id" in result["content"][0]["text"]
    assert (jobs["total_count"], images["total_count"], usage["jobs"]) == (0, 0, 0)
    assert "No job with id" in json.loads(read["body"])["error"]["message"]
    # while the owner sees it
    assert call(stack, "get_usage", {})["structuredContent"]["images"] == 1


def test_cancel_before_the_worker_runs_means_no_provider_call(
    stack: Stack, workers_ai: respx.MockRouter
) -> None:
    route = workers_ai.post(WORKERS_AI_URL).respond(200, json=flux_answer())
    job_id = call(stack, "generate_image", {"prompt": "a moth"})["structuredContent"]["job_id"]

    cancelled = call(stack, "cancel_job", {"job_id": job_id})["structuredContent"]
    delivered = stack.deliver()

    assert cancelled["cancelled"] is True and cancelled["status"] == "cancelled"
    assert delivered == {"batchItemFailures": []}
    assert route.call_count == 0
    assert stack.queued() == 0


def test_cancel_during_generation_discards_the_image(stack: Stack, workers_ai: respx.MockRouter) -> None:
    job_id = call(stack, "generate_image", {"prompt": "a wren"})["structuredContent"]["job_id"]
    outcome: dict[str, Any] = {}

    def cancel_while_generating(request: httpx.Request) -> httpx.Response:
        # The client cancels while Workers AI is still working on the image (from another container).
        thread = threading.Thread(
            target=lambda: outcome.update(call(stack, "cancel_job", {"job_id": job_id}))
        )
        thread.start()
        thread.join()
        return httpx.Response(200, json=flux_answer())

    workers_ai.post(WORKERS_AI_URL).mock(side_effect=cancel_while_generating)
    delivered = stack.deliver()
    status = call(stack, "get_job_status", {"job_id": job_id})["structuredContent"]

    assert outcome["structuredContent"]["cancelled"] is True
    assert delivered == {"batchItemFailures": []}
    assert status["status"] == "cancelled" and status["image_url"] is None
    assert stack.objects() == []
    assert call(stack, "list_generations", {})["structuredContent"]["total_count"] == 0


def test_delete_removes_the_r2_object_and_the_history_entry_once(
    stack: Stack, workers_ai: respx.MockRouter
) -> None:
    job_id = generate_and_complete(stack, workers_ai)
    assert [item["Key"] for item in stack.objects()] == [f"images/{job_id}.jpg"]

    first = call(stack, "delete_generation", {"job_id": job_id})["structuredContent"]
    second = call(stack, "delete_generation", {"job_id": job_id})["structuredContent"]

    assert (first["deleted"], second["deleted"]) == (True, False)
    assert stack.objects() == []
    assert call(stack, "list_generations", {})["structuredContent"]["total_count"] == 0
    assert call(stack, "get_job_status", {"job_id": job_id})["structuredContent"]["image_url"] is None


def test_completed_results_link_the_image_resource_read_from_r2(
    stack: Stack, workers_ai: respx.MockRouter
) -> None:
    job_id = generate_and_complete(stack, workers_ai)

    waited = call(stack, "wait_for_completion", {"job_id": job_id})
    read = result_of(
        stack.api.lambda_handler(
            http_api_v2(rpc("resources/read", {"uri": f"image://{job_id}"})), LambdaContext()
        )
    )

    blocks = {block["type"]: block for block in waited["content"]}
    assert blocks["resource_link"]["uri"] == f"image://{job_id}"
    with Image.open(io.BytesIO(base64.b64decode(blocks["image"]["data"]))) as thumbnail:
        assert max(thumbnail.size) == 256
    [content] = read["contents"]
    assert content["mimeType"] == "image/jpeg"
    stored = stack.r2.get_object(Bucket=BUCKET, Key=f"images/{job_id}.jpg")["Body"].read()
    assert base64.b64decode(content["blob"]) == stored
