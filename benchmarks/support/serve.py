"""The local server with a fixed-latency provider, in its own process, for the load figure.

    python -m benchmarks.support.serve DATA_DIR PORT PROVIDER_SECONDS WORKER_CONCURRENCY WAIT_SECONDS TIMINGS_FILE

Prints `READY <base url>` once it accepts requests and serves until its stdin is closed, then shuts
down cleanly (the worker pool stops, the SQLite store closes) and writes the server-side request
timings (`RequestTimer`) as JSON to TIMINGS_FILE. A separate process keeps the load generator's clients
from competing with the server for one interpreter lock.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from pathlib import Path

from starlette.applications import Starlette
from tests.support.local_server import local_server

from benchmarks.support.instruments import FixedLatencyProvider, RequestTimer, rendered_image


def main(argv: list[str]) -> None:
    data_dir, port, latency, concurrency, wait_seconds, timings_file = argv
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    provider = FixedLatencyProvider(float(latency), asyncio.run(rendered_image()))
    timers: list[RequestTimer] = []

    def timed(app: Starlette) -> RequestTimer:
        timers.append(RequestTimer(app))
        return timers[-1]

    with local_server(
        Path(data_dir),
        provider=provider,
        wrap_app=timed,
        port=int(port),
        worker_concurrency=int(concurrency),
        wait_timeout_seconds=float(wait_seconds),
    ) as server:
        print(f"READY {server.url}", flush=True)
        sys.stdin.read()
    Path(timings_file).write_text(json.dumps(timers[0].seconds))


if __name__ == "__main__":
    main(sys.argv[1:])
