"""The local server using the real Workers AI adapter against the fake Workers AI server, via the mcp client.

This is what `make serve` with WORKERS_AI_BASE_URL pointed at `imagegen fake-workers-ai` exercises.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from imagegen.adapters.workers_ai.provider import WorkersAIProvider
from imagegen.domain import catalog
from imagegen.domain.image_format import detect_image_format
from tests.support.fake_time import no_sleep
from tests.support.fake_workers_ai import FakeWorkersAI
from tests.support.local_server import LocalServer, local_server


@pytest.fixture
async def server(fake: FakeWorkersAI, tmp_path: Path) -> AsyncIterator[LocalServer]:
    provider = WorkersAIProvider(fake.settings(workers_ai_max_retries=2), sleep=no_sleep)
    with local_server(tmp_path, provider=provider, worker_concurrency=4) as running:
        yield running


def size_for(spec: catalog.ModelSpec) -> dict[str, int]:
    return {"width": 512, "height": 384} if "width" in spec.params else {}


@pytest.mark.parametrize("model", list(catalog.MODELS))
async def test_each_model_generates_a_correctly_typed_image(server: LocalServer, model: str) -> None:
    spec = catalog.MODELS[model]
    async with server.client() as client:
        result = await client.call_tool(
            "generate_image_and_wait", {"prompt": f"a harbour, {model}", "model": model, **size_for(spec)}
        )

    data: dict[str, Any] = result.structured_content  # type: ignore[assignment]
    assert not result.is_error and data["status"] == "completed", result.content
    [job] = data["jobs"]
    assert job["provider"] == "workers-ai"
    body = httpx.get(data["image_url"]).content
    detected = detect_image_format(body)
    assert detected is not None
    assert job["content_type"] == detected.content_type
    assert data["image_url"].endswith("." + detected.extension)
    with Image.open(io.BytesIO(body)) as image:
        expected = (512, 384) if size_for(spec) else (spec.default_width, spec.default_height)
        assert image.size == expected


@pytest.mark.parametrize(
    ("marker", "reason"),
    [
        ("3030", "content_filtered"),
        ("5006", "invalid_input"),
        ("5007", "unknown_model"),
        ("10000", "auth_failed"),
        ("7003", "configuration_error"),
        ("3030-output", "content_filtered"),
        ("3030-sequence", "invalid_input"),
        ("3036", "quota_exhausted"),
        ("429", "rate_limited"),
        ("408", "provider_timeout"),
        ("502", "provider_error"),
        ("200-3030", "content_filtered"),
        ("empty", "provider_error"),
    ],
)
async def test_each_error_fails_the_job_with_its_reason_code(
    server: LocalServer, marker: str, reason: str
) -> None:
    async with server.client() as client:
        waited = await client.call_tool(
            "generate_image_and_wait", {"prompt": f"a cat [fake:{marker}]", "timeout_seconds": 20}
        )
        job_id = waited.structured_content["job_id"]  # type: ignore[index]
        status = await client.call_tool("get_job_status", {"job_id": job_id})

    data: dict[str, Any] = status.structured_content  # type: ignore[assignment]
    assert data["status"] == "failed"
    assert data["error_code"] == reason
    assert data["error_message"]
    assert reason in status.content[0].text  # type: ignore[union-attr]


async def test_capacity_error_then_success_completes(server: LocalServer, fake: FakeWorkersAI) -> None:
    async with server.client() as client:
        result = await client.call_tool("generate_image_and_wait", {"prompt": "a heron [fake:429-then-ok]"})

    assert result.structured_content["status"] == "completed"  # type: ignore[index]
    assert sum("heron" in str(call.fields.get("prompt")) for call in fake.calls) == 2


async def test_an_output_flag_is_retried_once_then_fails_the_job_without_a_redelivery(
    server: LocalServer, fake: FakeWorkersAI
) -> None:
    async with server.client() as client:
        result = await client.call_tool(
            "generate_image_and_wait", {"prompt": "an owl [fake:3030-output]", "timeout_seconds": 20}
        )

    data: dict[str, Any] = result.structured_content  # type: ignore[assignment]
    assert (data["status"], data["jobs"][0]["error_code"]) == ("failed", "content_filtered")
    assert sum("an owl" in str(call.fields.get("prompt")) for call in fake.calls) == 2


async def test_a_wrong_account_id_fails_the_job_with_a_message_for_the_operator(server: LocalServer) -> None:
    async with server.client() as client:
        result = await client.call_tool(
            "generate_image_and_wait", {"prompt": "a lynx [fake:7003]", "timeout_seconds": 20}
        )

    [job] = result.structured_content["jobs"]  # type: ignore[index]
    assert job["error_code"] == "configuration_error"
    assert "CLOUDFLARE_ACCOUNT_ID" in job["error_message"]
