"""The deployed handlers against AWS's limits, on the emulated stack: deadlines, one request per
environment, the gateway's timeout, host and origin checks.

The stack here has no worker running, so jobs stay pending and every wait runs to its budget.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.conftest import structured
from tests.support.emulated_aws import EmulatedAws, emulated_aws
from tests.support.local_server import connect

API_TIMEOUT_SECONDS = 6.0
BROWSER_TOOL = "http://localhost:6274"


@pytest.fixture(scope="module")
def stalled() -> Iterator[EmulatedAws]:
    with emulated_aws(
        start_worker=False, api_timeout_seconds=API_TIMEOUT_SECONDS, allowed_origins=[BROWSER_TOOL]
    ) as aws:
        yield aws


async def _pending_job(aws: EmulatedAws) -> str:
    async with connect(aws.mcp_url, aws.token) as client:
        generated = await client.call_tool("generate_image", {"prompt": "a kite"})
    return str(structured(generated)["job_id"])


async def test_a_wait_ends_before_the_function_timeout_as_still_running(stalled: EmulatedAws) -> None:
    job_id = await _pending_job(stalled)

    async with connect(stalled.mcp_url, stalled.token) as client:
        started = time.monotonic()
        waited = await client.call_tool("wait_for_completion", {"job_id": job_id, "timeout_seconds": 20})
        elapsed = time.monotonic() - started

    # The budget came from the invocation's remaining time (6 s), not from the 20 s asked for.
    assert not waited.is_error, waited
    outcome = structured(waited)
    assert outcome["timed_out"] is True and outcome["done"] is False
    assert outcome["status"] == "pending" and job_id in outcome["next_step"]
    assert elapsed < API_TIMEOUT_SECONDS


async def test_a_long_wait_does_not_delay_other_requests(stalled: EmulatedAws) -> None:
    job_id = await _pending_job(stalled)
    async with (
        connect(stalled.mcp_url, stalled.token) as waiting,
        connect(stalled.mcp_url, stalled.token) as other,
    ):
        wait = asyncio.create_task(waiting.call_tool("wait_for_completion", {"job_id": job_id}))
        await asyncio.sleep(0.5)

        listed = await other.list_tools()

        # The tool list came back while the wait was still holding its own environment.
        assert not wait.done()
        assert listed.tools
        assert structured(await wait)["timed_out"] is True


async def test_past_the_gateway_timeout_the_client_gets_503_and_the_stack_carries_on(
    stalled: EmulatedAws,
) -> None:
    job_id = await _pending_job(stalled)
    gateway = stalled.stack.gateway
    gateway.integration_timeout = 2.0
    try:
        response = httpx.post(
            stalled.mcp_url,
            json={
                "jsonrpc": "2.0",
                "id": 7,
                "method": "tools/call",
                "params": {
                    "name": "wait_for_completion",
                    "arguments": {"job_id": job_id, "timeout_seconds": 20},
                },
            },
            headers=_mcp_headers(stalled.token),
            timeout=30,
        )
    finally:
        gateway.integration_timeout = 30.0

    assert response.status_code == 503
    assert response.json() == {"message": "Service Unavailable"}
    async with connect(stalled.mcp_url, stalled.token) as client:
        assert (await client.list_tools()).tools


def _mcp_headers(token: str) -> dict[str, str]:
    return {
        "authorization": f"Bearer {token}",
        "accept": "application/json, text/event-stream",
        "mcp-protocol-version": "2025-11-25",
    }


def test_a_request_for_another_host_never_reaches_the_function(stalled: EmulatedAws) -> None:
    response = httpx.post(
        stalled.mcp_url,
        json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
        headers={"host": "evil.example", "authorization": f"Bearer {stalled.token}"},
    )

    assert response.status_code == 403
    assert response.json() == {"message": "Forbidden"}


@pytest.mark.parametrize(("origin", "status"), [(BROWSER_TOOL, 200), ("http://evil.example", 403)])
def test_browser_origins_must_be_allowed(stalled: EmulatedAws, origin: str, status: int) -> None:
    response = httpx.post(
        stalled.mcp_url,
        json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
        headers={"origin": origin, **_mcp_headers(stalled.token)},
    )

    assert response.status_code == status
    if status == 200:
        assert response.headers["access-control-allow-origin"] == origin
