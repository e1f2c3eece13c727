"""WorkersAIProvider against the fake Workers AI server over real HTTP on loopback."""

from __future__ import annotations

import io
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import typer
from PIL import Image
from pydantic import SecretStr
from typer.testing import CliRunner

from imagegen.adapters.workers_ai.provider import WorkersAIProvider
from imagegen.adapters.workers_ai.settings import WorkersAISettings
from imagegen.cli.fake_workers_ai import register
from imagegen.domain import catalog
from imagegen.domain.errors import ProviderError, ReasonCode
from imagegen.domain.image_format import detect_image_format
from imagegen.domain.models import GenerationParams
from imagegen.ports import GenerationRequest
from tests.support.fake_time import no_sleep
from tests.support.fake_workers_ai import FAKE_TOKEN as TOKEN
from tests.support.fake_workers_ai import FakeWorkersAI, fake_workers_ai


def settings_for(fake: FakeWorkersAI, **overrides: Any) -> WorkersAISettings:
    return fake.settings(**overrides)


@pytest.fixture
async def provider(fake: FakeWorkersAI) -> AsyncIterator[WorkersAIProvider]:
    async with WorkersAIProvider(settings_for(fake), sleep=no_sleep) as workers_ai:
        yield workers_ai


def _size_params(spec: catalog.ModelSpec) -> dict[str, int]:
    return {"width": 512, "height": 384} if "width" in spec.params else {}


def _expected_type(spec: catalog.ModelSpec) -> str:
    # The fake answers JSON models without a documented image type with JPEG.
    return spec.output_content_type or "image/jpeg"


# ---------------------------------------------------------------- every model


@pytest.mark.parametrize("key", list(catalog.MODELS))
async def test_given_each_catalog_model_when_generating_then_a_real_image_of_the_requested_size_comes_back(
    fake: FakeWorkersAI, provider: WorkersAIProvider, key: str
) -> None:
    spec = catalog.MODELS[key]
    size = _size_params(spec)

    image = await provider.generate(
        GenerationRequest(model=key, prompt=f"a lighthouse for {key}", params=GenerationParams(**size))
    )

    detected = detect_image_format(image.data)
    assert detected is not None
    assert (image.content_type, image.extension) == (detected.content_type, detected.extension)
    assert image.content_type == _expected_type(spec)
    expected_size = (size["width"], size["height"]) if size else (spec.default_width, spec.default_height)
    assert (image.width, image.height) == expected_size
    with Image.open(io.BytesIO(image.data)) as decoded:
        assert decoded.size == expected_size
    call = fake.calls[-1]
    assert call.model_id == spec.model_id
    expected_encoding = "multipart/form-data" if key.startswith("flux-2") else "application/json"
    assert call.content_type.startswith(expected_encoding)


async def test_given_sd_steps_when_generating_then_the_fake_receives_num_steps(
    fake: FakeWorkersAI, provider: WorkersAIProvider
) -> None:
    await provider.generate(
        GenerationRequest(model="sdxl-lightning", prompt="a tram", params=GenerationParams(steps=4, seed=9))
    )

    assert fake.calls[-1].fields == {"prompt": "a tram", "num_steps": 4, "seed": 9}


async def test_given_the_ai_gateway_form_when_generating_then_the_fake_gateway_route_answers(
    fake: FakeWorkersAI,
) -> None:
    settings = settings_for(fake, ai_gateway_id="my-gateway", ai_gateway_base_url=f"{fake.base_url}/v1")
    async with WorkersAIProvider(settings, sleep=no_sleep) as workers_ai:
        image = await workers_ai.generate(GenerationRequest(model="flux-schnell", prompt="a gate"))

    assert image.content_type == "image/jpeg"
    assert fake.calls[-1].via_gateway is True


async def test_given_a_mislabeled_answer_when_generating_then_the_real_format_wins(
    provider: WorkersAIProvider,
) -> None:
    image = await provider.generate(GenerationRequest(model="sdxl-base", prompt="a cat [fake:mislabeled]"))

    assert (image.content_type, image.extension) == ("image/jpeg", "jpg")


# ---------------------------------------------------------------- the fake validates like the API


async def test_given_width_for_flux_schnell_sent_directly_then_the_fake_answers_400_with_5006(
    fake: FakeWorkersAI,
) -> None:
    async with httpx.AsyncClient(base_url=fake.base_url) as client:
        response = await client.post(
            "/client/v4/accounts/a/ai/run/@cf/black-forest-labs/flux-1-schnell",
            json={"prompt": "a cat", "width": 512},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )

    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False
    assert body["errors"][0]["code"] == 5006
    assert "width" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("@cf/black-forest-labs/flux-1-schnell", {"prompt": "a cat", "steps": 9}),
        ("@cf/stabilityai/stable-diffusion-xl-base-1.0", {"prompt": "a cat", "steps": 4}),
        ("@cf/stabilityai/stable-diffusion-xl-base-1.0", {"prompt": "a cat", "num_steps": "four"}),
        ("@cf/leonardo/phoenix-1.0", {"prompt": ""}),
    ],
)
async def test_given_invalid_fields_sent_directly_then_the_fake_answers_5006(
    fake: FakeWorkersAI, path: str, payload: dict[str, Any]
) -> None:
    async with httpx.AsyncClient(base_url=fake.base_url) as client:
        response = await client.post(
            f"/client/v4/accounts/a/ai/run/{path}", json=payload, headers={"Authorization": f"Bearer {TOKEN}"}
        )

    assert (response.status_code, response.json()["errors"][0]["code"]) == (400, 5006)


async def test_given_json_for_a_flux2_model_sent_directly_then_the_fake_demands_multipart(
    fake: FakeWorkersAI,
) -> None:
    async with httpx.AsyncClient(base_url=fake.base_url) as client:
        response = await client.post(
            "/client/v4/accounts/a/ai/run/@cf/black-forest-labs/flux-2-dev",
            json={"prompt": "a cat"},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )

    assert response.status_code == 400
    assert "multipart/form-data" in response.json()["errors"][0]["message"]


async def test_given_a_wrong_token_when_generating_then_auth_failed(fake: FakeWorkersAI) -> None:
    settings = settings_for(fake, cloudflare_api_token=SecretStr("not-the-token"))
    async with WorkersAIProvider(settings, sleep=no_sleep) as workers_ai:
        with pytest.raises(ProviderError) as caught:
            await workers_ai.generate(GenerationRequest(model="flux-schnell", prompt="a cat"))

    assert (caught.value.reason, caught.value.retryable) == (ReasonCode.AUTH_FAILED, False)
    assert "10000" in caught.value.message


async def test_given_an_unknown_model_id_sent_directly_then_the_fake_answers_5007(
    fake: FakeWorkersAI,
) -> None:
    async with httpx.AsyncClient(base_url=fake.base_url) as client:
        response = await client.post(
            "/client/v4/accounts/a/ai/run/@cf/nobody/nothing",
            json={"prompt": "a cat"},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )

    assert (response.status_code, response.json()["errors"][0]["code"]) == (400, 5007)


# ---------------------------------------------------------------- error markers


MARKER_CASES = [
    ("3040", ReasonCode.RATE_LIMITED, True),
    ("429", ReasonCode.RATE_LIMITED, True),
    ("3036", ReasonCode.QUOTA_EXHAUSTED, False),
    ("4006", ReasonCode.QUOTA_EXHAUSTED, False),
    ("3007", ReasonCode.PROVIDER_TIMEOUT, True),
    ("3008", ReasonCode.PROVIDER_TIMEOUT, True),
    ("408", ReasonCode.PROVIDER_TIMEOUT, True),
    ("5006", ReasonCode.INVALID_INPUT, False),
    ("5004", ReasonCode.INVALID_INPUT, False),
    ("3003", ReasonCode.INVALID_INPUT, False),
    ("3006", ReasonCode.INVALID_INPUT, False),
    ("413", ReasonCode.INVALID_INPUT, False),
    ("5007", ReasonCode.UNKNOWN_MODEL, False),
    ("3042", ReasonCode.UNKNOWN_MODEL, False),
    ("3030", ReasonCode.CONTENT_FILTERED, False),
    ("200-3030", ReasonCode.CONTENT_FILTERED, False),
    ("200-3040", ReasonCode.RATE_LIMITED, True),
    ("10000", ReasonCode.AUTH_FAILED, False),
    ("401", ReasonCode.AUTH_FAILED, False),
    ("5016", ReasonCode.AUTH_FAILED, False),
    ("5018", ReasonCode.AUTH_FAILED, False),
    ("5035", ReasonCode.AUTH_FAILED, False),
    ("500", ReasonCode.PROVIDER_ERROR, True),
    ("502", ReasonCode.PROVIDER_ERROR, True),
    ("503", ReasonCode.PROVIDER_ERROR, True),
    ("empty", ReasonCode.PROVIDER_ERROR, False),
    ("html", ReasonCode.PROVIDER_ERROR, False),
]


@pytest.mark.parametrize(("marker", "reason", "retryable"), MARKER_CASES)
@pytest.mark.parametrize("model", ["flux-schnell", "sdxl-base", "flux-2-klein-4b"])
async def test_given_an_error_marker_when_generating_then_the_reason_and_retryable_flag_match(
    provider: WorkersAIProvider, model: str, marker: str, reason: ReasonCode, retryable: bool
) -> None:
    with pytest.raises(ProviderError) as caught:
        await provider.generate(GenerationRequest(model=model, prompt=f"a cat [fake:{marker}]"))

    assert (caught.value.reason, caught.value.retryable) == (reason, retryable)


async def test_given_a_then_ok_marker_when_retries_are_allowed_then_the_second_call_succeeds(
    fake: FakeWorkersAI,
) -> None:
    before = len(fake.calls)
    async with WorkersAIProvider(settings_for(fake, workers_ai_max_retries=2), sleep=no_sleep) as workers_ai:
        image = await workers_ai.generate(
            GenerationRequest(model="flux-schnell", prompt=f"a fox [fake:429-then-ok] {time.time_ns()}")
        )

    assert image.content_type == "image/jpeg"
    assert len(fake.calls) - before == 2


async def test_given_a_slow_answer_when_the_client_times_out_then_provider_timeout_is_retryable(
    fake: FakeWorkersAI,
) -> None:
    settings = settings_for(fake, workers_ai_timeout_seconds=0.3)
    async with WorkersAIProvider(settings, sleep=no_sleep) as workers_ai:
        with pytest.raises(ProviderError) as caught:
            await workers_ai.generate(
                GenerationRequest(model="flux-schnell", prompt="a snail [fake:sleep=1]")
            )

    assert (caught.value.reason, caught.value.retryable) == (ReasonCode.PROVIDER_TIMEOUT, True)


async def test_given_configured_latency_when_generating_then_answers_take_at_least_that_long() -> None:
    with fake_workers_ai(latency_seconds=0.3) as slow:
        async with WorkersAIProvider(settings_for(slow), sleep=no_sleep) as workers_ai:
            started = time.perf_counter()
            await workers_ai.generate(GenerationRequest(model="flux-schnell", prompt="a turtle"))
            elapsed = time.perf_counter() - started

    assert elapsed >= 0.3


# ---------------------------------------------------------------- CLI


def test_given_a_typer_app_when_registering_then_fake_workers_ai_is_a_command_with_its_options() -> None:
    app = typer.Typer()

    @app.command()
    def other() -> None:  # a second command keeps Typer from collapsing the app into one command
        """Placeholder."""

    register(app)

    result = CliRunner().invoke(app, ["fake-workers-ai", "--help"])

    assert result.exit_code == 0, result.output
    for option in ("--host", "--port", "--latency", "--token"):
        assert option in result.output
