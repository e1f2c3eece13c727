"""Figure 7 — batch: wall time of `generate_image count=20` followed by `wait_for_completion job_ids`.

On the real local server through the real `mcp` client, with a provider of fixed latency L and a worker
pool of 20. From the moment the client sends generate_image to the moment it holds the wait result for
all 20 jobs (which carries 20 resource links and 20 inline thumbnails). If the 20 generations run in
parallel this is L plus overhead; run one after another it would be 20 L. Target: under 1.5 L.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.local_server import LocalServer, local_server

from benchmarks.report import FigureResult, Measurement, Target, median
from benchmarks.support.client import structured
from benchmarks.support.instruments import CompletionRecorder, FixedLatencyProvider, rendered_image

NAME = "batch"
TITLE = "Batch of 20"

BATCH = 20
PROVIDER_SECONDS = 1.0
WORKER_CONCURRENCY = 20
RUNS = {False: 5, True: 1}


@dataclass(frozen=True)
class Run:
    wall: float
    provider_start_spread: float  # first to last provider call of the batch: ~0 when all run at once
    after_last_completion: float  # last job completed -> client holds the result


def run(quick: bool) -> FigureResult:
    image = asyncio.run(rendered_image())
    provider = FixedLatencyProvider(PROVIDER_SECONDS, image)
    with (
        tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp,
        local_server(Path(tmp) / "data", provider=provider, worker_concurrency=WORKER_CONCURRENCY) as server,
    ):
        recorder = CompletionRecorder(server.runtime.store)
        runs = asyncio.run(_measure(server, provider, recorder, RUNS[quick]))

    walls = [item.wall for item in runs]
    return FigureResult(
        name=NAME,
        title=TITLE,
        measured=f"generate_image count={BATCH} sent -> wait_for_completion result for all {BATCH} held (median)",
        parameters={
            "count": BATCH,
            "provider_seconds": PROVIDER_SECONDS,
            "worker_concurrency": WORKER_CONCURRENCY,
            "runs": len(runs),
        },
        measurements=[
            Measurement(
                key="wall",
                label=f"{BATCH} images, L = {PROVIDER_SECONDS:g} s, {WORKER_CONCURRENCY} workers",
                value=median(walls),
                unit="s",
                baseline=PROVIDER_SECONDS,
                baseline_label="L, one generation",
                target=Target("<", 1.5, on="ratio"),
                details={
                    "walls_s": walls,
                    "sequential_would_take_s": BATCH * PROVIDER_SECONDS,
                    "median_provider_start_spread_ms": median([r.provider_start_spread for r in runs]) * 1000,
                    "median_last_completion_to_client_ms": median([r.after_last_completion for r in runs])
                    * 1000,
                },
            )
        ],
    )


async def _measure(
    server: LocalServer, provider: FixedLatencyProvider, recorder: CompletionRecorder, count: int
) -> list[Run]:
    runs: list[Run] = []
    async with server.client() as client:
        structured(await client.call_tool("generate_image_and_wait", {"prompt": "warm-up"}))
        for index in range(count):
            prompt = f"batch {index}"
            sent = time.perf_counter()
            generated = structured(
                await client.call_tool("generate_image", {"prompt": prompt, "count": BATCH})
            )
            waited = structured(
                await client.call_tool(
                    "wait_for_completion", {"job_ids": generated["job_ids"], "timeout_seconds": 10}
                )
            )
            received = time.perf_counter()
            if not waited["done"] or waited["completed_count"] != BATCH:
                raise RuntimeError(f"batch {index}: {waited['completed_count']}/{BATCH} completed")
            starts = [call.started for call in provider.calls if call.prompt == prompt]
            last_completion = max([await recorder.instant(job_id) for job_id in generated["job_ids"]])
            runs.append(
                Run(
                    wall=received - sent,
                    provider_start_spread=max(starts) - min(starts),
                    after_last_completion=received - last_completion,
                )
            )
    return runs
