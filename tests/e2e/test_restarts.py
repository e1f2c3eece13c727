"""Restarts lose nothing and fail nothing: `imagegen serve` stopped with SIGTERM (what Ctrl-C, systemd
and docker send) again and again while jobs are being generated."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from imagegen.adapters.sqlite_store import SqliteJobStore
from imagegen.domain.models import JobStatus
from tests.support.cli_process import IMAGEGEN, call_tool, wait_for_health
from tests.support.servers import free_port

TOKEN = "restart-token-0123456789abcdef"
JOBS = 10
RESTARTS = 10
GENERATION_SECONDS = 1.0
# Each run lasts from a fraction of a generation to more than one, so that every stop finds jobs in all
# states: just claimed, half generated, finishing.
RUN_SECONDS = [0.3, 0.6, 1.3, 0.2, 0.9, 0.5, 1.6, 0.4, 0.7, 1.1]
EXIT_BOUND_SECONDS = 15  # generous: a hang, not a slow machine, fails this


@contextmanager
def serving(data_dir: Path, port: int) -> Iterator[subprocess.Popen[str]]:
    env = {
        **os.environ,
        "IMAGEGEN_DATA_DIR": str(data_dir),
        "PORT": str(port),
        "AUTH_TOKEN": TOKEN,
        "PREVIEW_LATENCY_SECONDS": str(GENERATION_SECONDS),
        "WORKER_CONCURRENCY": "4",
    }
    for name in ("AUTH_TOKENS", "CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_API_TOKEN", "CLIENT_LIMITS"):
        env.pop(name, None)
    process = subprocess.Popen(
        [*IMAGEGEN, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for_health(process, port)
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def stop(process: subprocess.Popen[str]) -> float:
    """SIGTERM, then the seconds the process took to exit (it must exit cleanly)."""
    sent = time.monotonic()
    process.send_signal(signal.SIGTERM)
    _, errors = process.communicate(timeout=EXIT_BOUND_SECONDS)
    # After its clean shutdown uvicorn re-raises the signal, so that the exit status says what stopped it.
    assert process.returncode in (0, -signal.SIGTERM), errors
    assert "Traceback" not in errors and "Finished server process" in errors, errors
    return time.monotonic() - sent


def jobs_in(data_dir: Path, job_ids: list[str]) -> list[Any]:
    store = SqliteJobStore(data_dir / "imagegen.db")
    try:
        return [asyncio.run(store.get_job(job_id)) for job_id in job_ids]
    finally:
        store.close()


def test_ten_restarts_with_jobs_in_flight_complete_every_job_exactly_once(tmp_path: Path) -> None:
    port = free_port()
    # Given ten jobs queued on a running server
    with serving(tmp_path, port) as process:
        job_ids = call_tool(port, TOKEN, "generate_image", {"prompt": "a lighthouse", "count": JOBS})[
            "job_ids"
        ]
        time.sleep(RUN_SECONDS[0])
        exits = [stop(process)]

    # When the server is stopped with SIGTERM ten times in a row while they are being generated
    for run_seconds in RUN_SECONDS[1:]:
        with serving(tmp_path, port) as process:
            time.sleep(run_seconds)
            exits.append(stop(process))

    # Then after one more start every job completes, each generated exactly once and none charged for a
    # restart it did not cause
    with serving(tmp_path, port) as process:
        outcome = call_tool(
            port, TOKEN, "wait_for_completion", {"job_ids": job_ids, "timeout_seconds": 30}, timeout=60
        )
        stop(process)
    assert not outcome["timed_out"]
    jobs = jobs_in(tmp_path, job_ids)
    assert [job.status for job in jobs] == [JobStatus.COMPLETED] * JOBS
    assert [job.attempts for job in jobs] == [1] * JOBS
    assert len(list((tmp_path / "images").rglob("*.*"))) == JOBS
    assert len(exits) == RESTARTS and max(exits) < EXIT_BOUND_SECONDS


def test_a_wait_in_progress_answers_still_running_when_the_server_stops(tmp_path: Path) -> None:
    port = free_port()
    with serving(tmp_path, port) as process:
        # Given a client waiting up to 40 s on a job that takes longer
        job_id = call_tool(port, TOKEN, "generate_image", {"prompt": "a slow fox", "steps": 4})["job_id"]
        answers: list[Any] = []
        waiter = threading.Thread(
            target=lambda: answers.append(
                call_tool(port, TOKEN, "wait_for_completion", {"job_id": job_id, "timeout_seconds": 40})
            )
        )
        waiter.start()
        time.sleep(0.5)

        # When the server is stopped
        exit_seconds = stop(process)
        waiter.join(timeout=EXIT_BOUND_SECONDS)

    # Then the wait got the ordinary "still running, call again" answer, well before its 40 s
    assert answers and answers[0]["timed_out"] is True
    assert exit_seconds < 20
