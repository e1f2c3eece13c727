"""Figure 2 — end-to-end overhead: what the server adds to one generation, request to image URL.

One `generate_image_and_wait` call at a time on the real local server, through the real `mcp` client over
HTTP. The provider sleeps a fixed time and records exactly how long it took; the overhead of a request is
its round trip minus that provider time: validation, SQLite writes, queueing, the worker's claim, storing
the image, completion, waking the wait, the thumbnail in the result, JSON-RPC and HTTP both ways.
The figure is the median over N sequential requests (one unmeasured warm-up first), with a breakdown.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.local_server import LocalServer, local_server

from benchmarks.report import FigureResult, Measurement, Target, median, summary_ms
from benchmarks.support.client import structured
from benchmarks.support.instruments import CompletionRecorder, FixedLatencyProvider, rendered_image

NAME = "e2e_overhead"
TITLE = "End-to-end overhead"

PROVIDER_SECONDS = 0.2
TARGET_MS = 100.0
SAMPLES = {False: 40, True: 5}


@dataclass(frozen=True)
class Sample:
    round_trip: float
    provider: float
    before_provider: float  # request sent -> provider called (submit, queue, claim)
    provider_to_completed: float  # provider returned -> store marked completed (image put, complete)
    completed_to_client: float  # store marked completed -> client holds the result

    @property
    def overhead(self) -> float:
        return self.round_trip - self.provider


def run(quick: bool) -> FigureResult:
    image = asyncio.run(rendered_image())
    provider = FixedLatencyProvider(PROVIDER_SECONDS, image)
    with (
        tempfile.TemporaryDirectory(prefix="bench-e2e-") as tmp,
        local_server(Path(tmp) / "data", provider=provider) as server,
    ):
        recorder = CompletionRecorder(server.runtime.store)
        samples = asyncio.run(_measure(server, provider, recorder, SAMPLES[quick]))

    overheads = [sample.overhead for sample in samples]
    return FigureResult(
        name=NAME,
        title=TITLE,
        measured="generate_image_and_wait round trip minus the provider's own time (median)",
        parameters={"provider_seconds": PROVIDER_SECONDS, "samples": len(samples)},
        measurements=[
            Measurement(
                key="overhead",
                label=f"overhead per request, provider {PROVIDER_SECONDS * 1000:.0f} ms",
                value=median(overheads) * 1000,
                unit="ms",
                target=Target("<=", TARGET_MS, unit="ms"),
                details={
                    "overhead": summary_ms(overheads),
                    "round_trip": summary_ms([sample.round_trip for sample in samples]),
                    "median_breakdown_ms": {
                        "request_to_provider": median([s.before_provider for s in samples]) * 1000,
                        "provider_to_completed": median([s.provider_to_completed for s in samples]) * 1000,
                        "completed_to_client": median([s.completed_to_client for s in samples]) * 1000,
                    },
                },
            )
        ],
    )


async def _measure(
    server: LocalServer, provider: FixedLatencyProvider, recorder: CompletionRecorder, count: int
) -> list[Sample]:
    samples: list[Sample] = []
    async with server.client() as client:
        for index in range(count + 1):
            prompt = f"end-to-end sample {index}"
            sent = time.perf_counter()
            result = structured(
                await client.call_tool("generate_image_and_wait", {"prompt": prompt, "timeout_seconds": 10})
            )
            received = time.perf_counter()
            if result["status"] != "completed" or not result["image_url"]:
                raise RuntimeError(f"request {index} ended {result['status']}")
            call = provider.by_prompt()[prompt]
            completed = await recorder.instant(result["job_id"])
            if index == 0:
                continue  # warm-up
            samples.append(
                Sample(
                    round_trip=received - sent,
                    provider=call.seconds,
                    before_provider=call.started - sent,
                    provider_to_completed=completed - call.returned,
                    completed_to_client=received - completed,
                )
            )
    return samples
