"""Figure 8 — isolation on the AWS path: do long waits delay anyone else?

On the emulated stack (API Gateway + one Lambda execution environment per request + the real handlers, on
moto's server), twenty clients each hold `wait_for_completion` on a job that will not finish (no worker
runs), so each wait keeps its environment busy for the whole budget (about 24 s). Meanwhile a 21st
client calls `tools/list`, one request after another. Its latency is compared with the same requests on
the same warm environments when nothing else is running.

The 21 environments are started (and warmed) before either measurement, as they would be on a deployed
endpoint that has seen that much concurrency; a cold start is a different figure (`cold_start`).
Target: the 21st client's median `tools/list` is delayed by at most 100 ms.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
from tests.support.emulated_aws import EmulatedAws, emulated_aws

from benchmarks.report import FigureResult, Measurement, Target, median, summary_ms

NAME = "aws_isolation"
TITLE = "AWS path: 20 long waits beside a tools/list"

HOLDERS = {False: 20, True: 3}
SAMPLES = {False: 30, True: 5}
WAIT_SECONDS = 24.0
TARGET_DELAY_MS = 100.0


def run(quick: bool) -> FigureResult:
    holders = HOLDERS[quick]
    with emulated_aws(start_worker=False) as aws:
        details = asyncio.run(_measure(aws, holders, SAMPLES[quick]))
    idle, loaded = details["idle_s"], details["loaded_s"]
    delay_ms = (median(loaded) - median(idle)) * 1000
    return FigureResult(
        name=NAME,
        title=TITLE,
        measured=f"tools/list latency of a 21st client while {holders} clients each hold a {WAIT_SECONDS:g} s "
        "wait, minus the same with nothing else running (medians)",
        parameters={"holders": holders, "samples": SAMPLES[quick], "wait_seconds": WAIT_SECONDS},
        measurements=[
            Measurement(
                key="delay",
                label=f"tools/list delay beside {holders} waits",
                value=delay_ms,
                unit="ms",
                target=Target("<=", TARGET_DELAY_MS, unit="ms"),
                details={
                    "idle": summary_ms(idle),
                    "loaded": summary_ms(loaded),
                    "waits_still_running_after_samples": details["waits_running"],
                    "api_environments": details["environments"],
                },
                display=f"{delay_ms:+.1f} ms (idle p50 {median(idle) * 1000:.1f}, "
                f"loaded p50 {median(loaded) * 1000:.1f})",
            )
        ],
    )


def _rpc(method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}


async def _measure(aws: EmulatedAws, holders: int, samples: int) -> dict[str, Any]:
    headers = {
        "authorization": f"Bearer {aws.token}",
        "accept": "application/json, text/event-stream",
        "mcp-protocol-version": "2025-11-25",
    }
    async with httpx.AsyncClient(headers=headers, timeout=60) as http:

        async def post(body: dict[str, Any]) -> dict[str, Any]:
            response = await http.post(aws.mcp_url, json=body)
            response.raise_for_status()
            return dict(response.json())

        async def call(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
            answer = await post(_rpc("tools/call", {"name": name, "arguments": arguments}))
            return dict(answer["result"]["structuredContent"])

        job_id = (await call("generate_image", {"prompt": "a job no worker will run"}))["job_id"]
        # Start and warm one environment per concurrent request: short waits hold them all at once.
        await asyncio.gather(
            *(
                call("wait_for_completion", {"job_id": job_id, "timeout_seconds": 1})
                for _ in range(holders + 1)
            )
        )

        async def tools_list_timings() -> list[float]:
            timings = []
            for _ in range(samples):
                started = time.perf_counter()
                answer = await post(_rpc("tools/list"))
                timings.append(time.perf_counter() - started)
                if not answer["result"]["tools"]:
                    raise RuntimeError("tools/list came back empty")
            return timings

        idle = await tools_list_timings()
        waits = [
            asyncio.create_task(
                call("wait_for_completion", {"job_id": job_id, "timeout_seconds": WAIT_SECONDS})
            )
            for _ in range(holders)
        ]
        await asyncio.sleep(1.0)  # every wait has reached its environment
        loaded = await tools_list_timings()
        running = sum(not task.done() for task in waits)
        outcomes = await asyncio.gather(*waits)
        if not all(outcome["timed_out"] for outcome in outcomes):
            raise RuntimeError(json.dumps(outcomes)[:500])
    return {
        "idle_s": idle,
        "loaded_s": loaded,
        "waits_running": running,
        "environments": aws.stack.api.environments,
    }
