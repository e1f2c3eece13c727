"""The OpenAI-compatible `POST /v1/images/generations`, driven by the official `openai` SDK on both
backends: URLs and base64 images, sizes, the same keys, isolation and limits as MCP, and OpenAI's errors."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import httpx
import openai
import pytest
from PIL import Image

from imagegen.domain.limits import EVERYONE, ClientLimits, LimitsConfig
from imagegen.web.auth import KeyRing
from tests.e2e.conftest import Backend
from tests.support.local_server import TOKEN, local_server
from tests.support.providers import ScriptedProvider


def sdk(backend: Backend, key: str | None = None) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{backend.url}/v1", api_key=key or backend.token, max_retries=0, timeout=60
    )


def test_the_openai_sdk_gets_image_urls_and_the_jobs_join_the_mcp_history(backend: Backend) -> None:
    answer = sdk(backend).images.generate(prompt="a red kite over dunes", n=2)

    urls = [item.url for item in answer.data]
    assert len(urls) == 2 and all(urls)
    for url in urls:
        image = httpx.get(str(url))
        assert image.status_code == 200 and image.headers["content-type"].startswith("image/")
    listed = httpx.post(
        backend.mcp_url,
        json={
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "list_generations", "arguments": {"prompt_contains": "red kite over dunes"}},
        },
        headers={
            "authorization": f"Bearer {backend.token}",
            "accept": "application/json, text/event-stream",
            "mcp-protocol-version": "2025-11-25",
        },
    )
    assert '"total_count":2' in listed.text.replace(" ", "")


def test_the_openai_sdk_gets_base64_images_in_the_size_it_asked_for(backend: Backend) -> None:
    answer = sdk(backend).images.generate(
        prompt="a tidal pool", model="sdxl-lightning", size="512x768", response_format="b64_json"
    )

    [item] = answer.data
    assert item.b64_json is not None and item.url is None
    with Image.open(io.BytesIO(base64.b64decode(item.b64_json))) as image:
        assert image.size == (512, 768)


@pytest.mark.parametrize(
    ("arguments", "code", "param"),
    [
        ({"model": "dall-e-3"}, "model_not_found", "model"),
        ({"size": "512x512"}, "invalid_value", "size"),  # flux-schnell makes 1024x1024 only
        ({"size": "big"}, "invalid_value", "size"),
        ({"n": 11}, "invalid_value", "n"),
        ({"prompt": ""}, "invalid_value", None),
    ],
)
def test_bad_requests_get_openai_errors_that_say_what_to_change(
    backend: Backend, arguments: dict[str, object], code: str, param: str | None
) -> None:
    request = {"prompt": "a lighthouse", **arguments}

    with pytest.raises(openai.BadRequestError) as raised:
        sdk(backend).images.generate(**request)  # type: ignore[arg-type]

    error = raised.value.body
    assert isinstance(error, dict) and error["code"] == code and error["message"]
    if param:
        assert error["param"] == param


def test_a_wrong_key_is_an_authentication_error(backend: Backend) -> None:
    with pytest.raises(openai.AuthenticationError):
        sdk(backend, key="not-a-key-0123456789abcdef").images.generate(prompt="x")


def test_the_keys_limits_apply_as_for_mcp(tmp_path: Path) -> None:
    one_at_a_time = LimitsConfig(by_owner={EVERYONE: ClientLimits(jobs_in_flight=1)})
    with local_server(tmp_path, keyring=KeyRing.from_settings(TOKEN, None, limits=one_at_a_time)) as server:
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=TOKEN, max_retries=0)
        with pytest.raises(openai.RateLimitError) as raised:
            client.images.generate(prompt="two at once", n=2)

    assert "jobs in flight" in str(raised.value)


def test_a_generation_that_outlasts_the_request_is_a_504_naming_its_jobs(tmp_path: Path) -> None:
    stuck = ScriptedProvider()
    stuck.release.clear()
    with local_server(tmp_path, provider=stuck, wait_timeout_seconds=1) as server:
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=TOKEN, max_retries=0)
        with pytest.raises(openai.APIStatusError) as raised:
            client.images.generate(prompt="slow")

    assert raised.value.status_code == 504
    assert "wait_for_completion" in str(raised.value)
