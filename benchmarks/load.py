"""Figure 6 — load: the local server under 50 concurrent MCP clients for 30 s (5 s with --quick).

The server runs in its own process (`benchmarks.support.serve`: SQLite, in-process worker pool, a
provider of fixed latency). 50 real `mcp` clients (each with its own HTTP connection pool and the bearer
token), spread over several processes (`benchmarks.support.load_client`), loop over a mix of calls until
the time is up: list_tools, generate_image, get_job_status (of that job), list_jobs, wait_for_completion
(of that job). Every call is timed by its client, with no think time: a closed loop at saturation.

Reported: p50/p99 latency per tool, both as the clients saw it and inside the server (an ASGI timer
around the app: request arrived -> last response byte sent); errors (exceptions and `isError` results), target zero; jobs lost,
target zero: once the load stops and the queue has drained, every job a client was given an id for must
be `completed` in the SQLite store, read directly from the database file.

wait_for_completion's latency includes the generation itself and the queueing behind other clients'
jobs (C workers, L per job). On a 2-core machine the server and the 50 clients share the cores: the
`mcp` client spends milliseconds of CPU per call (it validates every result against the tool's output
schema), so the client-side figures mostly show CPU queueing in the load generator; the server-side
ones show what the server itself takes under that load.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.servers import free_port

from benchmarks.report import FigureResult, Measurement, Target, percentile
from benchmarks.support.load_client import TOOLS, Stats
from imagegen.adapters.sqlite_store import SqliteJobStore
from imagegen.domain.models import JobStatus
from imagegen.ports import JobQuery

NAME = "load"
TITLE = "Load: 50 concurrent MCP clients"

REPO = Path(__file__).resolve().parent.parent
CLIENTS = 50
CLIENT_PROCESSES = 5
DURATION_SECONDS = {False: 30.0, True: 5.0}
START_DELAY_SECONDS = 3.0  # lets every client process finish its imports before the clock starts
PROVIDER_SECONDS = 0.2
WORKER_CONCURRENCY = 8
WAIT_SECONDS = 20.0
DRAIN_SECONDS = 60.0


@dataclass(frozen=True)
class Settled:
    completed: int
    not_completed: dict[str, int]  # status (or "missing") -> count
    jobs_in_store: int
    drain_seconds: float

    @property
    def lost(self) -> int:
        return sum(self.not_completed.values())


def run(quick: bool) -> FigureResult:
    duration = DURATION_SECONDS[quick]
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        data_dir = Path(tmp) / "data"
        timings_file = Path(tmp) / "server-timings.json"
        with server_process(data_dir, timings_file) as url:
            stats = _drive(f"{url}/mcp", duration, Path(tmp))
            settled = asyncio.run(_settle(data_dir / "imagegen.db", stats.submitted))
        server_seconds: dict[str, list[float]] = json.loads(timings_file.read_text())

    calls = sum(len(values) for values in stats.latencies.values()) + sum(stats.errors.values())
    errors = sum(stats.errors.values())
    measurements = [
        Measurement(
            key="errors",
            label="errors (exceptions and isError results)",
            value=float(errors),
            unit="",
            target=Target("==", 0),
            notes=[f"{tool}: {example}" for tool, example in stats.error_examples.items()],
            details={
                "by_tool": dict(stats.errors),
                "calls": calls,
                "calls_per_second": calls / stats.seconds,
            },
        ),
        Measurement(
            key="jobs_lost",
            label="jobs lost (submitted, not completed in the store)",
            value=float(settled.lost),
            unit="",
            target=Target("==", 0),
            notes=[
                f"{len(stats.submitted)} jobs submitted, {settled.completed} completed, "
                f"{settled.jobs_in_store} in the store; all terminal {settled.drain_seconds:.1f} s after the load"
            ],
            details={"not_completed": settled.not_completed, "wait_timeouts": stats.wait_timeouts},
        ),
    ]
    for tool in TOOLS:
        client = _percentiles(stats.latencies[tool])
        server = _percentiles(server_seconds.get(tool, []))
        measurements.append(
            Measurement(
                key=f"latency_{tool}",
                label=f"{tool} (n={len(stats.latencies[tool])})",
                value=client["p99_ms"],
                unit="ms",
                display=(
                    f"client p50 {client['p50_ms']:,.0f} / p99 {client['p99_ms']:,.0f} ms\n"
                    f"server p50 {server['p50_ms']:,.1f} / p99 {server['p99_ms']:,.1f} ms"
                ),
                details={"client": client, "server": server},
            )
        )
    return FigureResult(
        name=NAME,
        title=TITLE,
        measured=f"{CLIENTS} clients looping over {', '.join(TOOLS)} for {duration:g} s; latency per call",
        parameters={
            "clients": CLIENTS,
            "client_processes": CLIENT_PROCESSES,
            "seconds": duration,
            "provider_seconds": PROVIDER_SECONDS,
            "worker_concurrency": WORKER_CONCURRENCY,
            "wait_timeout_seconds": WAIT_SECONDS,
        },
        measurements=measurements,
        notes=[
            f"{calls} calls in {stats.seconds:.1f} s ({calls / stats.seconds:.0f}/s), "
            f"{len(stats.submitted) / stats.seconds:.1f} jobs/s; worker capacity C/L = "
            f"{WORKER_CONCURRENCY / PROVIDER_SECONDS:.0f} jobs/s",
            "closed loop without think time: latency is about clients / throughput (Little's law), so the "
            "p50s show how long 50 outstanding calls queue at this throughput, not a per-call cost",
        ],
    )


def _percentiles(seconds: list[float]) -> dict[str, float]:
    values = [value * 1000 for value in seconds]
    return {
        "n": len(values),
        "p50_ms": percentile(values, 50),
        "p90_ms": percentile(values, 90),
        "p99_ms": percentile(values, 99),
        "max_ms": max(values, default=0.0),
    }


@contextmanager
def server_process(data_dir: Path, timings_file: Path) -> Iterator[str]:
    """Start `benchmarks.support.serve` and yield its base URL; closing its stdin stops it, and it then
    writes its server-side request timings to `timings_file`."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "benchmarks.support.serve",
        *map(str, (data_dir, port, PROVIDER_SECONDS, WORKER_CONCURRENCY, WAIT_SECONDS, timings_file)),
    ]
    with tempfile.TemporaryFile(mode="w+") as stderr:
        process = subprocess.Popen(
            command, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True
        )
        assert process.stdin is not None and process.stdout is not None
        try:
            line = process.stdout.readline()
            if not line.startswith("READY "):
                stderr.seek(0)
                raise RuntimeError(f"load server did not start:\n{stderr.read()[-3000:]}")
            yield line.split()[1]
        finally:
            process.stdin.close()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _drive(mcp_url: str, duration: float, tmp: Path) -> Stats:
    """Run the clients in CLIENT_PROCESSES processes that start together; merge what they saw."""
    start_at = time.time() + START_DELAY_SECONDS
    per_process = [
        CLIENTS // CLIENT_PROCESSES + (index < CLIENTS % CLIENT_PROCESSES)
        for index in range(CLIENT_PROCESSES)
    ]
    outputs = [tmp / f"clients-{index}.json" for index in range(CLIENT_PROCESSES)]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.support.load_client",
                *map(str, (mcp_url, clients, start_at, duration, WAIT_SECONDS, output)),
            ],
            cwd=REPO,
            stderr=subprocess.PIPE,
            text=True,
        )
        for clients, output in zip(per_process, outputs, strict=True)
    ]
    merged = Stats()
    for process, output in zip(processes, outputs, strict=True):
        _, stderr = process.communicate(timeout=duration + START_DELAY_SECONDS + WAIT_SECONDS + 60)
        if process.returncode != 0:
            raise RuntimeError(f"load client process failed ({process.returncode}):\n{stderr[-3000:]}")
        merged.merge(Stats.from_json(json.loads(output.read_text())))
    return merged


async def _settle(database: Path, job_ids: list[str]) -> Settled:
    """Wait until every submitted job is terminal (or DRAIN_SECONDS pass), then count the outcomes."""
    store = SqliteJobStore(database)
    started = time.perf_counter()
    try:
        while True:
            jobs = {job_id: await store.get_job(job_id) for job_id in job_ids}
            if all(job is not None and job.is_terminal for job in jobs.values()):
                break
            if time.perf_counter() - started > DRAIN_SECONDS:
                break
            await asyncio.sleep(0.2)
        drained = time.perf_counter() - started
        outcomes: Counter[str] = Counter(job.status.value if job else "missing" for job in jobs.values())
        page = await store.list_jobs(JobQuery(owner=None, limit=1))
    finally:
        store.close()
    completed = outcomes.pop(JobStatus.COMPLETED.value, 0)
    return Settled(
        completed=completed,
        not_completed=dict(outcomes),
        jobs_in_store=page.total_count or 0,
        drain_seconds=drained,
    )
