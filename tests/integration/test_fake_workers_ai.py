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


@pytest.mark.parametrize(
    ("path", "payload", "field"),
    [
        # each one step past what Cloudflare's schema allows
        ("@cf/stabilityai/stable-diffusion-xl-base-1.0", {"prompt": "a cat", "width": 2049}, "/width"),
        ("@cf/bytedance/stable-diffusion-xl-lightning", {"prompt": "a cat", "num_steps": 21}, "/num_steps"),
        ("@cf/leonardo/lucid-origin", {"prompt": "a cat", "height": 2501}, "/height"),
        ("@cf/leonardo/phoenix-1.0", {"prompt": "a cat", "guidance": 1.5}, "/guidance"),
        ("@cf/leonardo/phoenix-1.0", {"prompt": "a cat", "seed": -1}, "/seed"),
        ("@cf/black-forest-labs/flux-1-schnell", {"prompt": "x" * 2049}, "/prompt"),
        ("@cf/lykon/dreamshaper-8-lcm", {"width": 512}, "/"),
    ],
)
async def test_given_a_body_outside_cloudflares_schema_then_the_fake_answers_cloudflares_error_envelope(
    fake: FakeWorkersAI, path: str, payload: dict[str, Any], field: str
) -> None:
    async with httpx.AsyncClient(base_url=fake.base_url) as client:
        response = await client.post(
            f"/client/v4/accounts/a/ai/run/{path}", json=payload, headers={"Authorization": f"Bearer {TOKEN}"}
        )

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body == {
        "result": None,
        "success": False,
        "errors": [{"code": 5006, "message": body["errors"][0]["message"]}],
        "messages": [],
    }
    assert body["errors"][0]["message"].startswith(f"AiError: Bad input: at '{field}': ")


@pytest.mark.parametrize(
    ("model_id", "form", "accepted"),
    [
        ("@cf/black-forest-labs/flux-2-dev", {"prompt": "a cat", "width": "1920", "steps": "30"}, True),
        ("@cf/black-forest-labs/flux-2-dev", {"prompt": "a cat", "width": "1921"}, False),
        ("@cf/black-forest-labs/flux-2-klein-4b", {"prompt": "a cat", "height": "255"}, False),
        ("@cf/black-forest-labs/flux-2-klein-9b", {"prompt": "a cat", "seed": "seven"}, False),
        ("@cf/black-forest-labs/flux-2-klein-9b", {"prompt": "a cat", "steps": "4"}, False),
        ("@cf/black-forest-labs/flux-2-klein-9b", {"prompt": "a cat", "guidance": "3.5"}, True),
    ],
)
async def test_given_multipart_fields_then_the_fake_reads_them_as_the_schemas_types(
    fake: FakeWorkersAI, model_id: str, form: dict[str, str], accepted: bool
) -> None:
    async with httpx.AsyncClient(base_url=fake.base_url) as client:
        response = await client.post(
            f"/client/v4/accounts/a/ai/run/{model_id}",
            files={name: (None, value) for name, value in form.items()},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )

    if accepted:
        assert response.status_code == 200, response.text
        assert response.json()["success"] is True
    else:
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
    ("3030-output", ReasonCode.CONTENT_FILTERED, False),
    ("3030-input-image", ReasonCode.INVALID_INPUT, False),
    ("3030-sequence", ReasonCode.INVALID_INPUT, False),
    ("3030-unknown", ReasonCode.PROVIDER_ERROR, False),
    ("7003", ReasonCode.CONFIGURATION_ERROR, False),
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


@pytest.mark.parametrize(
    ("marker", "model", "content_type"),
    [
        ("429-then-ok", "flux-schnell", "image/jpeg"),  # capacity, then room again
        ("3030-output-then-ok", "sdxl-base", "image/png"),  # an output flag: the one retry it gets succeeds
    ],
)
async def test_given_a_then_ok_marker_when_retries_are_allowed_then_the_second_call_succeeds(
    fake: FakeWorkersAI, marker: str, model: str, content_type: str
) -> None:
    before = len(fake.calls)
    async with WorkersAIProvider(settings_for(fake, workers_ai_max_retries=3), sleep=no_sleep) as workers_ai:
        image = await workers_ai.generate(
            GenerationRequest(model=model, prompt=f"a fox [fake:{marker}] {time.time_ns()}")
        )

    assert image.content_type == content_type
    assert len(fake.calls) - before == 2


async def failure_with_generous_retries(fake: FakeWorkersAI, prompt: str) -> tuple[ProviderError, int]:
    """The error a generation ends with when five retries are allowed, and how many calls it took."""
    before = len(fake.calls)
    async with WorkersAIProvider(settings_for(fake, workers_ai_max_retries=5), sleep=no_sleep) as workers_ai:
        with pytest.raises(ProviderError) as caught:
            await workers_ai.generate(GenerationRequest(model="flux-schnell", prompt=prompt))
    return caught.value, len(fake.calls) - before


async def test_given_an_output_flag_every_time_when_generating_then_it_fails_after_exactly_one_retry(
    fake: FakeWorkersAI,
) -> None:
    error, calls = await failure_with_generous_retries(fake, "a fox [fake:3030-output]")

    assert (error.reason, error.retryable) == (ReasonCode.CONTENT_FILTERED, False)
    assert calls == 2


async def test_given_a_wrong_account_id_when_generating_then_the_operator_is_told_to_fix_the_setting(
    fake: FakeWorkersAI,
) -> None:
    error, calls = await failure_with_generous_retries(fake, "a fox [fake:7003]")

    assert (error.reason, error.retryable) == (ReasonCode.CONFIGURATION_ERROR, False)
    assert "CLOUDFLARE_ACCOUNT_ID" in error.message
    assert "7003" in error.message
    assert calls == 1


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
