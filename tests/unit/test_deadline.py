"""Deadlines: every budget a request spends is derived from the time it must be answered by."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from imagegen.domain.deadline import Deadline, earliest
from imagegen.mcp.context import current_deadline
from imagegen.web.deadline_guard import DeadlineGuard
from imagegen.web.gateway_limits import API_GATEWAY_TIMEOUT_SECONDS, RESPONSE_MARGIN_SECONDS
from imagegen.web.lambda_app import request_deadline

NOW = 1_800_000_000.0


def _context(remaining_ms: int) -> SimpleNamespace:
    return SimpleNamespace(get_remaining_time_in_millis=lambda: remaining_ms)


def _event(received_seconds_ago: float) -> dict[str, object]:
    return {"requestContext": {"timeEpoch": int((NOW - received_seconds_ago) * 1000)}}


@pytest.mark.parametrize(
    ("received_ago", "remaining_ms", "expected"),
    [
        (0.0, 30_000, API_GATEWAY_TIMEOUT_SECONDS - RESPONSE_MARGIN_SECONDS),  # warm: the full 30 s
        (3.0, 30_000, 27.0 - RESPONSE_MARGIN_SECONDS),  # a 3 s cold start used part of the gateway's time
        (0.0, 5_000, 5.0 - RESPONSE_MARGIN_SECONDS),  # the function's own timeout comes first
        (40.0, 30_000, 0.0),  # nothing left: answer at once
    ],
)
def test_the_deadline_is_the_earlier_of_the_gateway_and_the_function(
    received_ago: float, remaining_ms: int, expected: float
) -> None:
    deadline = request_deadline(_event(received_ago), _context(remaining_ms), now=NOW)

    assert deadline.remaining() == pytest.approx(expected, abs=0.05)


def test_without_a_receive_time_the_gateway_limit_still_applies() -> None:
    deadline = request_deadline({}, _context(60_000), now=NOW)

    assert deadline.remaining() == pytest.approx(
        API_GATEWAY_TIMEOUT_SECONDS - RESPONSE_MARGIN_SECONDS, abs=0.05
    )


def test_a_budget_never_goes_past_the_deadline() -> None:
    deadline = Deadline.within(2.0)

    assert deadline.budget(25.0) <= 2.0
    assert deadline.budget(0.5) == 0.5
    assert deadline.earlier_by(5.0).budget(25.0) == 0.0
    assert earliest(None, deadline, Deadline.within(10.0)) == deadline
    assert earliest(None) is None


async def _call(app: DeadlineGuard) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.post("/mcp", json={"jsonrpc": "2.0", "id": 42, "method": "tools/call"})


async def test_an_answer_in_time_passes_through_with_the_deadline_visible_to_the_tools() -> None:
    seen: list[Deadline | None] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(current_deadline.get())
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    deadline = Deadline.within(5.0)
    response = await _call(DeadlineGuard(app, deadline))

    assert response.status_code == 200 and response.text == "ok"
    assert seen == [deadline]


async def test_an_app_that_overruns_is_cut_off_with_a_json_rpc_error_for_its_request() -> None:
    async def stuck(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await asyncio.sleep(30)

    started = time.monotonic()
    response = await _call(DeadlineGuard(stuck, Deadline.within(0.2)))

    assert time.monotonic() - started < 5
    assert response.status_code == 503
    body = response.json()
    assert body["id"] == 42 and "ran out of time" in body["error"]["message"]
