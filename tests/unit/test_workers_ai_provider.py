"""WorkersAIProvider against respx: wire format per model, every answer shape, the error taxonomy, retries."""

from __future__ import annotations

import base64
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx
from PIL import Image
from pydantic import SecretStr

from imagegen.adapters.workers_ai.errors import WorkersAIError
from imagegen.adapters.workers_ai.provider import WorkersAIProvider
from imagegen.adapters.workers_ai.settings import WorkersAISettings
from imagegen.domain.errors import ProviderError, ReasonCode
from imagegen.domain.models import GenerationParams
from imagegen.ports import GenerationRequest
from tests.support.fake_time import FakeTime

ACCOUNT = "acc-123"
TOKEN = "cf-secret-token-0123456789"
API = "https://api.cloudflare.com/client/v4"
FLUX_URL = f"{API}/accounts/{ACCOUNT}/ai/run/@cf/black-forest-labs/flux-1-schnell"
SDXL_URL = f"{API}/accounts/{ACCOUNT}/ai/run/@cf/stabilityai/stable-diffusion-xl-base-1.0"


# ---------------------------------------------------------------- helpers


def image_bytes(fmt: str, width: int = 64, height: int = 48) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(buffer, format=fmt)
    return buffer.getvalue()


def json_image(data: bytes) -> dict[str, Any]:
    return {
        "result": {"image": base64.b64encode(data).decode()},
        "success": True,
        "errors": [],
        "messages": [],
    }


def envelope(code: int | None, message: str = "something went wrong") -> dict[str, Any]:
    error: dict[str, Any] = {"message": message}
    if code is not None:
        error["code"] = code
    return {"result": None, "success": False, "errors": [error], "messages": []}


def settings(**overrides: Any) -> WorkersAISettings:
    values: dict[str, Any] = {
        "cloudflare_account_id": ACCOUNT,
        "cloudflare_api_token": SecretStr(TOKEN),
        "workers_ai_max_retries": 3,
        "workers_ai_retry_budget_seconds": 20.0,
    }
    values.update(overrides)
    return WorkersAISettings(**values)


def provider(time: FakeTime | None = None, rng: Any = lambda: 0.5, **overrides: Any) -> WorkersAIProvider:
    time = time or FakeTime()
    return WorkersAIProvider(settings(**overrides), sleep=time.sleep, rng=rng, clock=time.clock)


def request(
    model: str = "flux-schnell", prompt: str = "a red fox in snow", **params: Any
) -> GenerationRequest:
    return GenerationRequest(model=model, prompt=prompt, params=GenerationParams(**params))


def sent_json(route: respx.Route, index: int = -1) -> dict[str, Any]:
    return dict(json.loads(route.calls[index].request.content))


@pytest.fixture
def cf() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


# ---------------------------------------------------------------- answer shapes


async def test_given_flux_json_base64_answer_when_generating_then_returns_jpeg_with_its_size(
    cf: respx.MockRouter,
) -> None:
    jpeg = image_bytes("JPEG", 96, 64)
    cf.post(FLUX_URL).respond(200, json=json_image(jpeg))

    image = await provider().generate(request())

    assert image.data == jpeg
    assert (image.content_type, image.extension) == ("image/jpeg", "jpg")
    assert (image.width, image.height) == (96, 64)


async def test_given_sd_raw_png_answer_when_generating_then_returns_png_with_its_size(
    cf: respx.MockRouter,
) -> None:
    png = image_bytes("PNG", 80, 40)
    cf.post(SDXL_URL).respond(200, content=png, headers={"content-type": "image/png"})

    image = await provider().generate(request("sdxl-base"))

    assert image.data == png
    assert (image.content_type, image.extension, image.width, image.height) == ("image/png", "png", 80, 40)


async def test_given_phoenix_raw_jpeg_answer_when_generating_then_returns_jpeg(cf: respx.MockRouter) -> None:
    jpeg = image_bytes("JPEG")
    cf.post(f"{API}/accounts/{ACCOUNT}/ai/run/@cf/leonardo/phoenix-1.0").respond(
        200, content=jpeg, headers={"content-type": "image/jpeg"}
    )

    image = await provider().generate(request("phoenix"))

    assert image.content_type == "image/jpeg"


async def test_given_declared_png_but_jpeg_bytes_when_generating_then_image_is_stored_as_jpeg(
    cf: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    cf.post(SDXL_URL).respond(200, content=image_bytes("JPEG"), headers={"content-type": "image/png"})

    image = await provider().generate(request("sdxl-base"))

    assert (image.content_type, image.extension) == ("image/jpeg", "jpg")
    assert any(getattr(record, "detected", None) == "image/jpeg" for record in caplog.records)


async def test_given_base64_png_where_jpeg_is_usual_when_generating_then_png_is_reported(
    cf: respx.MockRouter,
) -> None:
    cf.post(FLUX_URL).respond(200, json=json_image(image_bytes("PNG")))

    image = await provider().generate(request())

    assert (image.content_type, image.extension) == ("image/png", "png")


async def test_given_raw_webp_answer_when_generating_then_returns_webp(cf: respx.MockRouter) -> None:
    cf.post(SDXL_URL).respond(200, content=image_bytes("WEBP", 30, 20), headers={"content-type": "image/png"})

    image = await provider().generate(request("sdxl-base"))

    assert (image.content_type, image.width, image.height) == ("image/webp", 30, 20)


async def test_given_json_answer_without_content_type_when_generating_then_it_is_still_decoded(
    cf: respx.MockRouter,
) -> None:
    body = json.dumps(json_image(image_bytes("JPEG"))).encode()
    cf.post(FLUX_URL).respond(200, content=body, headers={"content-type": "application/octet-stream"})

    image = await provider().generate(request())

    assert image.content_type == "image/jpeg"


async def test_given_data_uri_in_result_image_when_generating_then_prefix_is_stripped(
    cf: respx.MockRouter,
) -> None:
    jpeg = image_bytes("JPEG")
    uri = "data:image/jpeg;base64," + base64.b64encode(jpeg).decode()
    cf.post(FLUX_URL).respond(200, json={"result": {"image": uri}, "success": True})

    image = await provider().generate(request())

    assert image.data == jpeg


@pytest.mark.parametrize(
    ("description", "response"),
    [
        ("empty body", httpx.Response(200, content=b"", headers={"content-type": "image/png"})),
        (
            "html body",
            httpx.Response(
                200, content=b"<html><body>Login</body></html>", headers={"content-type": "text/html"}
            ),
        ),
        ("json without image", httpx.Response(200, json={"result": {}, "success": True})),
        ("json image not base64", httpx.Response(200, json={"result": {"image": "***"}, "success": True})),
        ("json image not an image", httpx.Response(200, json=json_image(b"just some text bytes"))),
        (
            "magic bytes but unreadable",
            httpx.Response(
                200, content=b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, headers={"content-type": "image/png"}
            ),
        ),
    ],
)
async def test_given_an_answer_that_is_not_an_image_when_generating_then_provider_error_is_raised(
    cf: respx.MockRouter, description: str, response: httpx.Response
) -> None:
    route = cf.post(SDXL_URL).mock(return_value=response)

    with pytest.raises(ProviderError) as caught:
        await provider().generate(request("sdxl-base"))

    assert caught.value.reason is ReasonCode.PROVIDER_ERROR, description
    assert caught.value.retryable is False
    assert "sdxl-base" in caught.value.message
    assert route.call_count == 1


# ---------------------------------------------------------------- error taxonomy


ERROR_CASES = [
    # status, Cloudflare code, reason, retryable
    (429, 3040, ReasonCode.RATE_LIMITED, True),
    (408, 3007, ReasonCode.PROVIDER_TIMEOUT, True),
    (408, 3008, ReasonCode.PROVIDER_TIMEOUT, True),
    (500, None, ReasonCode.PROVIDER_ERROR, True),
    (503, None, ReasonCode.PROVIDER_ERROR, True),
    (400, 5006, ReasonCode.INVALID_INPUT, False),
    (400, 5004, ReasonCode.INVALID_INPUT, False),
    (400, 3003, ReasonCode.INVALID_INPUT, False),
    (400, 5007, ReasonCode.UNKNOWN_MODEL, False),
    (404, 3042, ReasonCode.UNKNOWN_MODEL, False),
    # 3030 is decided by its message (see the 3030 tests); these cases' message is one no rule knows
    (400, 3030, ReasonCode.PROVIDER_ERROR, False),
    (401, 10000, ReasonCode.AUTH_FAILED, False),
    (400, 7003, ReasonCode.CONFIGURATION_ERROR, False),
    (403, 5016, ReasonCode.AUTH_FAILED, False),
    (403, 5018, ReasonCode.AUTH_FAILED, False),
    (403, 5035, ReasonCode.AUTH_FAILED, False),
    (413, 3006, ReasonCode.INVALID_INPUT, False),
    (429, 3036, ReasonCode.QUOTA_EXHAUSTED, False),
    (429, 4006, ReasonCode.QUOTA_EXHAUSTED, False),
    # the status alone decides when the envelope has no code this adapter knows
    (401, None, ReasonCode.AUTH_FAILED, False),
    (403, None, ReasonCode.AUTH_FAILED, False),
    (413, None, ReasonCode.INVALID_INPUT, False),
    (429, None, ReasonCode.RATE_LIMITED, True),
    (408, None, ReasonCode.PROVIDER_TIMEOUT, True),
    (400, 99999, ReasonCode.INVALID_INPUT, False),
]


@pytest.mark.parametrize(("status", "code", "reason", "retryable"), ERROR_CASES)
async def test_given_an_error_envelope_when_generating_then_it_maps_to_reason_and_retryable_flag(
    cf: respx.MockRouter, status: int, code: int | None, reason: ReasonCode, retryable: bool
) -> None:
    route = cf.post(FLUX_URL).respond(status, json=envelope(code, "Cloudflare's own words"))

    with pytest.raises(ProviderError) as caught:
        await provider(workers_ai_max_retries=0).generate(request())

    error = caught.value
    assert (error.reason, error.retryable) == (reason, retryable)
    assert f"HTTP {status}" in error.message
    assert "Cloudflare's own words" in error.message
    if code is not None:
        assert str(code) in error.message
    assert route.call_count == 1


@pytest.mark.parametrize(
    ("status", "code", "reason", "retryable"), [case for case in ERROR_CASES if not case[3]]
)
async def test_given_a_permanent_error_when_generating_then_it_is_never_retried(
    cf: respx.MockRouter, status: int, code: int | None, reason: ReasonCode, retryable: bool
) -> None:
    time = FakeTime()
    route = cf.post(FLUX_URL).respond(status, json=envelope(code))

    with pytest.raises(ProviderError) as caught:
        await provider(time, workers_ai_max_retries=5).generate(request())

    assert caught.value.reason is reason
    assert route.call_count == 1
    assert time.sleeps == []


@pytest.mark.parametrize(
    ("code", "message", "reason", "retryable"),
    [
        (3030, "AiError: Input prompt contains NSFW content.", ReasonCode.CONTENT_FILTERED, False),
        (3040, "Capacity temporarily exceeded", ReasonCode.RATE_LIMITED, True),
        (5006, "AiError: Bad input", ReasonCode.INVALID_INPUT, False),
        (12345, "something went wrong", ReasonCode.PROVIDER_ERROR, False),
    ],
)
async def test_given_success_false_with_http_200_when_generating_then_the_envelope_decides(
    cf: respx.MockRouter, code: int, message: str, reason: ReasonCode, retryable: bool
) -> None:
    cf.post(FLUX_URL).respond(200, json=envelope(code, message))

    with pytest.raises(WorkersAIError) as caught:
        await provider(workers_ai_max_retries=0).generate(request())

    assert (caught.value.reason, caught.value.retryable) == (reason, retryable)
    assert caught.value.cloudflare_code == code
    assert caught.value.http_status == 200


async def test_given_several_errors_when_one_code_is_known_then_the_known_code_decides(
    cf: respx.MockRouter,
) -> None:
    body = {
        "success": False,
        "errors": [{"code": 7777, "message": "noise"}, {"code": 3030, "message": "nsfw"}],
    }
    cf.post(FLUX_URL).respond(400, json=body)

    with pytest.raises(ProviderError) as caught:
        await provider().generate(request())

    assert caught.value.reason is ReasonCode.CONTENT_FILTERED


async def test_given_an_html_502_from_a_proxy_when_generating_then_it_is_a_retryable_provider_error(
    cf: respx.MockRouter,
) -> None:
    cf.post(FLUX_URL).respond(
        502, text="<html><h1>502 Bad Gateway</h1></html>", headers={"content-type": "text/html"}
    )

    with pytest.raises(ProviderError) as caught:
        await provider(workers_ai_max_retries=0).generate(request())

    assert (caught.value.reason, caught.value.retryable) == (ReasonCode.PROVIDER_ERROR, True)
    assert "HTTP 502" in caught.value.message
    assert "<html>" not in caught.value.message


@pytest.mark.parametrize(
    ("exception", "reason"),
    [
        (httpx.ReadTimeout("timed out"), ReasonCode.PROVIDER_TIMEOUT),
        (httpx.ConnectTimeout("timed out"), ReasonCode.PROVIDER_TIMEOUT),
        (httpx.ConnectError("refused"), ReasonCode.PROVIDER_ERROR),
    ],
)
async def test_given_a_transport_failure_when_generating_then_a_retryable_error_is_raised(
    cf: respx.MockRouter, exception: Exception, reason: ReasonCode
) -> None:
    cf.post(FLUX_URL).mock(side_effect=exception)

    with pytest.raises(ProviderError) as caught:
        await provider(workers_ai_max_retries=0).generate(request())

    assert (caught.value.reason, caught.value.retryable) == (reason, True)


async def test_given_any_failure_when_generating_then_the_token_appears_in_no_message_or_log(
    cf: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cf.post(FLUX_URL).mock(
        side_effect=[httpx.Response(429, json=envelope(3040)), httpx.Response(401, json=envelope(10000))]
    )

    with pytest.raises(ProviderError) as caught:
        await provider().generate(request())

    assert caught.value.reason is ReasonCode.AUTH_FAILED
    assert TOKEN not in caught.value.message
    assert caplog.records, "the adapter should log its calls"
    for record in caplog.records:
        assert TOKEN not in record.getMessage()
        assert TOKEN not in str(record.__dict__)


# ---------------------------------------------------------------- 3030, one code for several failures

PROMPT_FLAGGED = "AiError: Input prompt contains NSFW content."
OUTPUT_FLAGGED = "AiError: Output image was flagged as NSFW content."

AI_ERROR_3030_CASES = [
    # message, reason, calls made (with retries allowed), the final error retryable
    (PROMPT_FLAGGED, ReasonCode.CONTENT_FILTERED, 1, False),
    ("AiError: your prompt was flagged by the safety filter", ReasonCode.CONTENT_FILTERED, 1, False),
    ("AiError: Invalid input image, unable to decode it.", ReasonCode.INVALID_INPUT, 1, False),
    ("AiError: Sequence too long", ReasonCode.INVALID_INPUT, 1, False),
    (OUTPUT_FLAGGED, ReasonCode.CONTENT_FILTERED, 2, False),
    ("NSFW content was detected in the generated image", ReasonCode.CONTENT_FILTERED, 2, False),
    ("AiError: the model could not run (reason withheld)", ReasonCode.PROVIDER_ERROR, 1, False),
]


@pytest.mark.parametrize(("message", "reason", "calls", "retryable"), AI_ERROR_3030_CASES)
async def test_given_a_3030_that_persists_when_generating_then_its_message_decides_reason_and_retries(
    cf: respx.MockRouter, message: str, reason: ReasonCode, calls: int, retryable: bool
) -> None:
    time = FakeTime()
    route = cf.post(FLUX_URL).respond(400, json=envelope(3030, message))

    with pytest.raises(WorkersAIError) as caught:
        await provider(time, workers_ai_max_retries=5, workers_ai_retry_budget_seconds=1000).generate(
            request()
        )

    assert (caught.value.reason, caught.value.retryable) == (reason, retryable)
    assert route.call_count == calls
    assert len(time.sleeps) == calls - 1
    assert message in caught.value.message
    assert caught.value.cloudflare_code == 3030


async def test_given_an_output_flag_twice_when_generating_then_the_job_fails_for_good_after_one_retry(
    cf: respx.MockRouter,
) -> None:
    route = cf.post(FLUX_URL).mock(
        side_effect=[
            httpx.Response(400, json=envelope(3030, OUTPUT_FLAGGED)),
            httpx.Response(400, json=envelope(3030, OUTPUT_FLAGGED)),
            httpx.Response(200, json=json_image(image_bytes("JPEG"))),
        ]
    )

    with pytest.raises(ProviderError) as caught:
        await provider(workers_ai_max_retries=10, workers_ai_retry_budget_seconds=1000).generate(request())

    # Final, not retryable: a queue redelivery would only start the same round again.
    assert (caught.value.reason, caught.value.retryable) == (ReasonCode.CONTENT_FILTERED, False)
    assert route.call_count == 2
    assert "Gave up after 2 call(s) to Workers AI" in caught.value.message
    assert "retried later" not in caught.value.message


async def test_given_retries_switched_off_when_an_output_flag_comes_then_it_is_final_at_once(
    cf: respx.MockRouter,
) -> None:
    route = cf.post(FLUX_URL).respond(400, json=envelope(3030, OUTPUT_FLAGGED))

    with pytest.raises(ProviderError) as caught:
        await provider(workers_ai_max_retries=0).generate(request())

    assert (caught.value.reason, caught.value.retryable) == (ReasonCode.CONTENT_FILTERED, False)
    assert route.call_count == 1


# ---------------------------------------------------------------- 7003, a wrong account id


WRONG_ACCOUNT = {
    "result": None,
    "success": False,
    "errors": [
        {
            "code": 7003,
            "message": f"Could not route to /client/v4/accounts/{ACCOUNT}/ai/run/@cf/black-forest-labs/"
            "flux-1-schnell, perhaps your object identifier is invalid?",
        },
        {"code": 7000, "message": "No route for that URI"},
    ],
    "messages": [],
}


async def test_given_a_wrong_account_id_when_generating_then_a_configuration_error_names_the_setting(
    cf: respx.MockRouter,
) -> None:
    time = FakeTime()
    route = cf.post(FLUX_URL).respond(400, json=WRONG_ACCOUNT)

    with pytest.raises(WorkersAIError) as caught:
        await provider(time, workers_ai_max_retries=5).generate(request())

    error = caught.value
    assert (error.reason, error.retryable, error.cloudflare_code) == (
        ReasonCode.CONFIGURATION_ERROR,
        False,
        7003,
    )
    assert "CLOUDFLARE_ACCOUNT_ID" in error.message
    assert "32-character hexadecimal Account ID" in error.message
    assert "dashboard" in error.message
    assert route.call_count == 1
    assert time.sleeps == []


# ---------------------------------------------------------------- URLs and auth


async def test_given_default_settings_when_generating_then_it_posts_to_the_rest_api_with_bearer_token(
    cf: respx.MockRouter,
) -> None:
    route = cf.post(FLUX_URL).respond(200, json=json_image(image_bytes("JPEG")))

    await provider().generate(request())

    assert route.call_count == 1
    assert route.calls[0].request.headers["authorization"] == f"Bearer {TOKEN}"


async def test_given_a_base_url_override_when_generating_then_that_host_is_called(
    cf: respx.MockRouter,
) -> None:
    url = f"http://127.0.0.1:9999/client/v4/accounts/{ACCOUNT}/ai/run/@cf/black-forest-labs/flux-1-schnell"
    route = cf.post(url).respond(200, json=json_image(image_bytes("JPEG")))

    await provider(workers_ai_base_url="http://127.0.0.1:9999/client/v4/").generate(request())

    assert route.call_count == 1


async def test_given_an_ai_gateway_id_when_generating_then_the_gateway_url_is_used(
    cf: respx.MockRouter,
) -> None:
    url = f"https://gateway.ai.cloudflare.com/v1/{ACCOUNT}/my-gateway/workers-ai/@cf/black-forest-labs/flux-1-schnell"
    route = cf.post(url).respond(200, json=json_image(image_bytes("JPEG")))

    await provider(ai_gateway_id="my-gateway").generate(request())

    assert route.call_count == 1
    assert route.calls[0].request.headers["authorization"] == f"Bearer {TOKEN}"


async def test_given_an_ai_gateway_base_url_override_when_generating_then_it_is_used(
    cf: respx.MockRouter,
) -> None:
    url = f"http://localhost:8788/v1/{ACCOUNT}/gw/workers-ai/@cf/stabilityai/stable-diffusion-xl-base-1.0"
    route = cf.post(url).respond(200, content=image_bytes("PNG"), headers={"content-type": "image/png"})

    await provider(ai_gateway_id="gw", ai_gateway_base_url="http://localhost:8788/v1").generate(
        request("sdxl-base")
    )

    assert route.call_count == 1


def test_given_no_credentials_when_constructing_then_it_refuses() -> None:
    with pytest.raises(ValueError, match="CLOUDFLARE_API_TOKEN"):
        WorkersAIProvider(WorkersAISettings(cloudflare_account_id=ACCOUNT, cloudflare_api_token=None))


def test_given_a_provider_then_its_name_is_workers_ai() -> None:
    assert provider().name == "workers-ai"


async def test_given_an_injected_client_when_closing_then_the_client_stays_open() -> None:
    client = httpx.AsyncClient()
    workers_ai = WorkersAIProvider(settings(), client=client)

    await workers_ai.aclose()

    assert not client.is_closed
    await client.aclose()


async def test_given_its_own_client_when_closing_then_the_client_is_closed() -> None:
    workers_ai = provider()

    await workers_ai.aclose()

    assert workers_ai._client.is_closed


# ---------------------------------------------------------------- request bodies


async def test_given_flux_with_steps_when_generating_then_the_body_is_prompt_and_steps_only(
    cf: respx.MockRouter,
) -> None:
    route = cf.post(FLUX_URL).respond(200, json=json_image(image_bytes("JPEG")))

    await provider().generate(request(prompt="a lighthouse", steps=6))

    assert sent_json(route) == {"prompt": "a lighthouse", "steps": 6}
    assert route.calls[0].request.headers["content-type"] == "application/json"


async def test_given_sdxl_with_every_parameter_when_generating_then_wire_names_are_used(
    cf: respx.MockRouter,
) -> None:
    route = cf.post(SDXL_URL).respond(200, content=image_bytes("PNG"), headers={"content-type": "image/png"})

    await provider().generate(
        request(
            "sdxl-base",
            prompt="a castle",
            width=768,
            height=512,
            steps=12,
            guidance=6.5,
            seed=42,
            negative_prompt="blurry",
        )
    )

    assert sent_json(route) == {
        "prompt": "a castle",
        "width": 768,
        "height": 512,
        "num_steps": 12,
        "guidance": 6.5,
        "seed": 42,
        "negative_prompt": "blurry",
    }


@pytest.mark.parametrize(
    ("model", "model_id", "steps_field", "answer"),
    [
        ("phoenix", "@cf/leonardo/phoenix-1.0", "num_steps", "raw"),
        ("lucid-origin", "@cf/leonardo/lucid-origin", "steps", "json"),
        ("dreamshaper-8-lcm", "@cf/lykon/dreamshaper-8-lcm", "num_steps", "raw"),
        ("sdxl-lightning", "@cf/bytedance/stable-diffusion-xl-lightning", "num_steps", "raw"),
    ],
)
async def test_given_a_json_model_when_generating_then_steps_uses_that_models_wire_name(
    cf: respx.MockRouter, model: str, model_id: str, steps_field: str, answer: str
) -> None:
    jpeg = image_bytes("JPEG")
    route = cf.post(f"{API}/accounts/{ACCOUNT}/ai/run/{model_id}")
    if answer == "json":
        route.respond(200, json=json_image(jpeg))
    else:
        route.respond(200, content=jpeg, headers={"content-type": "image/jpeg"})

    await provider().generate(request(model, steps=10))

    assert sent_json(route) == {"prompt": "a red fox in snow", steps_field: 10}


@pytest.mark.parametrize(
    ("model", "params", "expected"),
    [
        (
            "flux-2-dev",
            {"steps": 25, "width": 1024, "height": 768},
            {"steps": "25", "width": "1024", "height": "768"},
        ),
        ("flux-2-klein-4b", {"width": 512, "seed": 7}, {"width": "512", "seed": "7"}),
        ("flux-2-klein-9b", {"guidance": 3.5}, {"guidance": "3.5"}),
    ],
)
async def test_given_a_flux2_model_when_generating_then_it_sends_multipart_form_fields(
    cf: respx.MockRouter, model: str, params: dict[str, Any], expected: dict[str, str]
) -> None:
    model_id = {
        "flux-2-dev": "@cf/black-forest-labs/flux-2-dev",
        "flux-2-klein-4b": "@cf/black-forest-labs/flux-2-klein-4b",
        "flux-2-klein-9b": "@cf/black-forest-labs/flux-2-klein-9b",
    }[model]
    route = cf.post(f"{API}/accounts/{ACCOUNT}/ai/run/{model_id}").respond(
        200, json=json_image(image_bytes("PNG"))
    )

    image = await provider().generate(request(model, prompt="a sunset at the alps", **params))

    sent = route.calls[0].request
    assert sent.headers["content-type"].startswith("multipart/form-data; boundary=")
    fields = _form_fields(sent)
    assert fields == {"prompt": "a sunset at the alps", **expected}
    assert image.content_type == "image/png"


def _form_fields(sent: httpx.Request) -> dict[str, str]:
    boundary = sent.headers["content-type"].split("boundary=", 1)[1]
    fields = {}
    for part in sent.content.split(f"--{boundary}".encode()):
        head, sep, value = part.partition(b"\r\n\r\n")
        if not sep:
            continue
        name = head.split(b'name="', 1)[1].split(b'"', 1)[0].decode()
        fields[name] = value.removesuffix(b"\r\n").decode()
    return fields


@pytest.mark.parametrize(
    ("model", "params", "expected_words"),
    [
        ("flux-schnell", {"width": 512}, ["flux-schnell", "width", "steps (1-8)"]),
        ("flux-schnell", {"steps": 9}, ["steps=9", "steps (1-8)"]),
        ("flux-2-klein-4b", {"steps": 4}, ["steps", "width (256-1920)"]),
        ("phoenix", {"negative_prompt": " "}, ["negative_prompt"]),
    ],
)
async def test_given_parameters_the_model_does_not_accept_when_generating_then_nothing_is_sent(
    cf: respx.MockRouter, model: str, params: dict[str, Any], expected_words: list[str]
) -> None:
    cf.route().respond(200, json=json_image(image_bytes("JPEG")))

    with pytest.raises(ProviderError) as caught:
        await provider().generate(request(model, **params))

    assert (caught.value.reason, caught.value.retryable) == (ReasonCode.INVALID_INPUT, False)
    for word in expected_words:
        assert word in caught.value.message
    assert not cf.calls


async def test_given_an_unknown_model_when_generating_then_unknown_model_is_raised_without_a_call(
    cf: respx.MockRouter,
) -> None:
    cf.route().respond(200)

    with pytest.raises(ProviderError) as caught:
        await provider().generate(request("dall-e-3"))

    assert caught.value.reason is ReasonCode.UNKNOWN_MODEL
    assert "flux-schnell" in caught.value.message
    assert not cf.calls


async def test_given_a_prompt_over_the_limit_when_generating_then_nothing_is_sent(
    cf: respx.MockRouter,
) -> None:
    cf.route().respond(200)

    with pytest.raises(ProviderError) as caught:
        await provider().generate(request(prompt="x" * 2049))

    assert caught.value.reason is ReasonCode.INVALID_INPUT
    assert not cf.calls


# ---------------------------------------------------------------- retries


@pytest.mark.parametrize(
    "first",
    [
        httpx.Response(429, json=envelope(3040)),  # capacity
        httpx.Response(400, json=envelope(3030, OUTPUT_FLAGGED)),  # an output flag gets its one retry
    ],
    ids=["capacity", "output-flag"],
)
async def test_given_a_transient_error_then_success_when_generating_then_it_completes_with_two_calls(
    cf: respx.MockRouter, first: httpx.Response
) -> None:
    time = FakeTime()
    jpeg = image_bytes("JPEG")
    route = cf.post(FLUX_URL).mock(side_effect=[first, httpx.Response(200, json=json_image(jpeg))])

    image = await provider(time).generate(request())

    assert image.data == jpeg
    assert route.call_count == 2
    assert len(time.sleeps) == 1


async def test_given_content_filtered_when_generating_then_exactly_one_call_is_made(
    cf: respx.MockRouter,
) -> None:
    time = FakeTime()
    route = cf.post(FLUX_URL).respond(400, json=envelope(3030, PROMPT_FLAGGED))

    with pytest.raises(ProviderError):
        await provider(time).generate(request())

    assert route.call_count == 1
    assert time.sleeps == []


async def test_given_a_small_budget_when_errors_persist_then_retries_stop_at_the_budget(
    cf: respx.MockRouter,
) -> None:
    time = FakeTime()
    route = cf.post(FLUX_URL).respond(429, json=envelope(3040))

    with pytest.raises(ProviderError) as caught:
        # rng=1.0 makes the delays 0.5 then 1.0: the second would end at 1.5 s, past the 1 s budget.
        await provider(
            time, rng=lambda: 1.0, workers_ai_max_retries=10, workers_ai_retry_budget_seconds=1.0
        ).generate(request())

    assert route.call_count == 2
    assert time.sleeps == [0.5]
    assert (caught.value.reason, caught.value.retryable) == (ReasonCode.RATE_LIMITED, True)
    assert "Gave up after 2 call(s) to Workers AI" in caught.value.message


async def test_given_max_retries_when_errors_persist_then_calls_are_one_plus_max_retries(
    cf: respx.MockRouter,
) -> None:
    route = cf.post(FLUX_URL).respond(503, json=envelope(None))

    with pytest.raises(ProviderError) as caught:
        await provider(workers_ai_max_retries=2, workers_ai_retry_budget_seconds=1000).generate(request())

    assert route.call_count == 3
    assert caught.value.retryable is True


async def test_given_zero_budget_when_a_transient_error_happens_then_it_is_raised_after_one_call(
    cf: respx.MockRouter,
) -> None:
    route = cf.post(FLUX_URL).respond(429, json=envelope(3040))

    with pytest.raises(ProviderError):
        await provider(workers_ai_retry_budget_seconds=0).generate(request())

    assert route.call_count == 1


async def test_given_an_injected_rng_when_retrying_then_jitter_scales_the_exponential_ceiling(
    cf: respx.MockRouter,
) -> None:
    time = FakeTime()
    draws = iter([0.25, 0.75, 0.0])
    cf.post(FLUX_URL).respond(429, json=envelope(3040))

    with pytest.raises(ProviderError):
        await provider(time, rng=lambda: next(draws), workers_ai_retry_budget_seconds=1000).generate(
            request()
        )

    # ceilings 0.5, 1, 2 s for attempts 1-3; full jitter draws a fraction of each
    assert time.sleeps == [0.125, 0.75, 0.0]


async def test_given_many_retries_when_backing_off_then_each_delay_is_capped(cf: respx.MockRouter) -> None:
    time = FakeTime()
    cf.post(FLUX_URL).respond(500, json=envelope(None))

    with pytest.raises(ProviderError):
        await provider(
            time, rng=lambda: 1.0, workers_ai_max_retries=7, workers_ai_retry_budget_seconds=1000
        ).generate(request())

    assert time.sleeps == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


async def test_given_retry_after_header_when_retrying_then_the_delay_honours_it(cf: respx.MockRouter) -> None:
    time = FakeTime()
    cf.post(FLUX_URL).mock(
        side_effect=[
            httpx.Response(429, json=envelope(3040), headers={"retry-after": "3"}),
            httpx.Response(200, json=json_image(image_bytes("JPEG"))),
        ]
    )

    await provider(time).generate(request())

    assert time.sleeps == [3.0]


async def test_given_a_timeout_then_success_when_generating_then_it_retries_and_completes(
    cf: respx.MockRouter,
) -> None:
    route = cf.post(FLUX_URL).mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, json=json_image(image_bytes("JPEG")))]
    )

    image = await provider().generate(request())

    assert image.content_type == "image/jpeg"
    assert route.call_count == 2


async def test_given_a_rate_limit_when_generating_back_to_back_then_starts_are_spaced(
    cf: respx.MockRouter,
) -> None:
    time = FakeTime()
    cf.post(FLUX_URL).respond(200, json=json_image(image_bytes("JPEG")))
    workers_ai = provider(time, workers_ai_rate_limit_per_minute=60)

    for _ in range(3):
        await workers_ai.generate(request())

    # 60 a minute with a burst of one: the second and third calls each wait one second.
    assert time.sleeps == [1.0, 1.0]
    assert workers_ai.limiter.per_minute == 60
