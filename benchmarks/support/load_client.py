"""Load-generating MCP clients, run as one of several processes by the load figure.

    python -m benchmarks.support.load_client MCP_URL CLIENTS START_AT SECONDS WAIT_SECONDS OUTPUT_FILE

Starts CLIENTS real `mcp` clients at the wall-clock time START_AT (so that every process starts
together, after its imports), runs them for SECONDS and writes their `Stats` as JSON to OUTPUT_FILE.
Fifty clients in one Python process measure that process's own event loop (the client library costs a
few ms of CPU per call), so the figure spreads them over several processes.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from mcp_types import CallToolResult
from tests.support.local_server import TOKEN, connect

from benchmarks.support.client import structured

TOOLS = ("list_tools", "generate_image", "get_job_status", "list_jobs", "wait_for_completion")

T = TypeVar("T")


@dataclass
class Stats:
    latencies: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    error_examples: dict[str, str] = field(default_factory=dict)
    submitted: list[str] = field(default_factory=list)
    wait_timeouts: int = 0
    seconds: float = 0.0

    async def timed(self, tool: str, call: Awaitable[T]) -> T | None:
        """Await one call; record its latency, or count it as an error (exception or isError)."""
        started = time.perf_counter()
        try:
            result = await call
            if isinstance(result, CallToolResult):
                structured(result)
        except Exception as exc:
            self.error(tool, exc)
            return None
        self.latencies[tool].append(time.perf_counter() - started)
        return result

    def error(self, tool: str, exc: BaseException) -> None:
        self.errors[tool] += 1
        self.error_examples.setdefault(tool, f"{type(exc).__name__}: {exc}"[:200])

    def merge(self, other: Stats) -> None:
        for tool, values in other.latencies.items():
            self.latencies[tool] += values
        self.errors.update(other.errors)
        for tool, example in other.error_examples.items():
            self.error_examples.setdefault(tool, example)
        self.submitted += other.submitted
        self.wait_timeouts += other.wait_timeouts
        self.seconds = max(self.seconds, other.seconds)

    def to_json(self) -> dict[str, Any]:
        return {
            "latencies": self.latencies,
            "errors": self.errors,
            "error_examples": self.error_examples,
            "submitted": self.submitted,
            "wait_timeouts": self.wait_timeouts,
            "seconds": self.seconds,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Stats:
        return cls(
            latencies=defaultdict(list, data["latencies"]),
            errors=Counter(data["errors"]),
            error_examples=data["error_examples"],
            submitted=data["submitted"],
            wait_timeouts=data["wait_timeouts"],
            seconds=data["seconds"],
        )


async def run_clients(
    mcp_url: str, clients: int, start_at: float, seconds: float, wait_seconds: float
) -> Stats:
    stats = Stats()
    await asyncio.sleep(max(0.0, start_at - time.time()))
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(_client(f"{start_at}.{index}", mcp_url, deadline, wait_seconds, stats) for index in range(clients))
    )
    stats.seconds = time.perf_counter() - started
    return stats


async def _client(name: str, mcp_url: str, deadline: float, wait_seconds: float, stats: Stats) -> None:
    """One client: list_tools, generate_image, get_job_status, list_jobs, wait_for_completion, repeat."""
    try:
        async with connect(mcp_url, TOKEN) as client:
            loop = 0
            while time.perf_counter() < deadline:
                loop += 1
                await stats.timed("list_tools", client.list_tools(cache_mode="bypass"))
                generated = await stats.timed(
                    "generate_image", client.call_tool("generate_image", {"prompt": f"load {name}.{loop}"})
                )
                if generated is None:
                    continue
                job_id: str = structured(generated)["job_id"]
                stats.submitted.append(job_id)
                await stats.timed("get_job_status", client.call_tool("get_job_status", {"job_id": job_id}))
                await stats.timed("list_jobs", client.call_tool("list_jobs", {"limit": 10}))
                waited = await stats.timed(
                    "wait_for_completion",
                    client.call_tool(
                        "wait_for_completion", {"job_id": job_id, "timeout_seconds": wait_seconds}
                    ),
                )
                if waited is not None and structured(waited)["timed_out"]:
                    stats.wait_timeouts += 1
    except Exception as exc:  # connecting or closing the session failed
        stats.error("session", exc)


def main(argv: list[str]) -> None:
    mcp_url, clients, start_at, seconds, wait_seconds, output = argv
    stats = asyncio.run(
        run_clients(mcp_url, int(clients), float(start_at), float(seconds), float(wait_seconds))
    )
    Path(output).write_text(json.dumps(stats.to_json()))


if __name__ == "__main__":
    main(sys.argv[1:])
