"""Fair use on both backends: a key over one of its limits gets a tool error that says which limit, how much
is used and when it resets; get_usage shows where a key stands; other keys are not affected."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from imagegen.adapters.preview_provider import PreviewProvider
from imagegen.domain.limits import LimitsConfig
from imagegen.web.auth import KeyRing
from tests.e2e.conftest import structured
from tests.support.emulated_aws import OTHER_TOKEN, TOKEN, emulated_aws
from tests.support.local_server import connect, local_server

# The key named "default" may have 2 jobs in flight and start 3 a day; every other key has no limits.
LIMITS = {
    "default": {"jobs_in_flight": 2, "images_per_day": 3, "daily_spend_usd": None},
    "*": {"jobs_in_flight": None, "images_per_day": None, "daily_spend_usd": None},
}


@pytest.fixture(scope="module", params=["local", "aws"])
def limited(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An endpoint whose jobs never finish on their own (no worker, or a very slow provider)."""
    if request.param == "aws":
        with emulated_aws(start_worker=False, extra_environment={"CLIENT_LIMITS": json.dumps(LIMITS)}) as aws:
            yield aws.mcp_url
        return
    keyring = KeyRing.from_tokens(
        {"default": TOKEN, "other": OTHER_TOKEN}, limits=LimitsConfig.parse(json.dumps(LIMITS))
    )
    data = tmp_path_factory.mktemp("limits")
    with local_server(Path(data), provider=PreviewProvider(latency_seconds=600), keyring=keyring) as server:
        yield server.mcp_url


async def _call(url: str, token: str, tool: str, arguments: dict[str, Any]) -> Any:
    async with connect(url, token) as client:
        return await client.call_tool(tool, arguments)


async def test_a_key_over_its_limits_is_told_which_limit_and_others_carry_on(limited: str) -> None:
    # Given a key that already has its 2 jobs in flight
    first = await _call(limited, TOKEN, "generate_image", {"prompt": "a fox", "count": 2})
    assert not first.is_error, first

    # When it asks for one more
    refused = await _call(limited, TOKEN, "generate_image", {"prompt": "a fox"})

    # Then it is told the limit, its use and what to do; nothing was queued
    assert refused.is_error
    text = refused.content[0].text
    assert "jobs in flight" in text and "2 of 2 used" in text and "wait_for_completion" in text

    # And another key is not affected
    other = await _call(limited, OTHER_TOKEN, "generate_image", {"prompt": "a cat"})
    assert not other.is_error

    # And get_usage says where the limited key stands
    usage = structured(await _call(limited, TOKEN, "get_usage", {}))["today"]
    assert usage["jobs_in_flight"] == {"limit": 2, "used": 2, "remaining": 0}
    assert usage["images_today"] == {"limit": 3, "used": 2, "remaining": 1}
    assert usage["spend_today_usd"]["limit"] is None

    # When its jobs are cancelled (out of flight), the day's quota is what stops it
    for job_id in structured(first)["job_ids"]:
        assert not (await _call(limited, TOKEN, "cancel_job", {"job_id": job_id})).is_error
    assert not (await _call(limited, TOKEN, "generate_image", {"prompt": "a fox"})).is_error
    day = await _call(limited, TOKEN, "generate_image", {"prompt": "a fox"})

    assert day.is_error
    day_text = day.content[0].text
    assert "images per day" in day_text and "3 of 3 used" in day_text and "resets at" in day_text
