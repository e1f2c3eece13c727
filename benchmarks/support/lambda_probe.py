"""Run in a fresh interpreter by the cold-start figure: import a Lambda handler and invoke it.

    python lambda_probe.py MODULE:ATTRIBUTE EVENT_FILE WARM_CALLS OUTPUT_FILE

Times the import plus the first invocation (a cold start), then WARM_CALLS more invocations of the same
event, and writes JSON with the timings, the tool names of the first answer, warm failures and the peak
RSS of this process (VmHWM; see `peak_rss_kib`). The handler's own output (Powertools log lines) goes to stdout untouched.

Deliberately a plain script with only stdlib imports of its own: nothing from this repository is
imported before the clock starts, so both handlers pay for exactly what they import.
"""

from __future__ import annotations

import importlib
import json
import resource
import sys
import time
import uuid
from typing import Any


class LambdaContext:
    """The attributes Powertools and Mangum read from the context Lambda passes."""

    function_name = "imagegen-mcp-api"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:imagegen-mcp-api"
    memory_limit_in_mb = 512
    log_group_name = "/aws/lambda/imagegen-mcp-api"
    log_stream_name = "2026/11/25/[$LATEST]benchmark"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def peak_rss_kib() -> int:
    """This process's peak resident set size in KiB.

    Linux's `VmHWM` belongs to the address space exec created, so it is this interpreter's own peak.
    `getrusage().ru_maxrss` survives fork + exec: started from a large parent it reports the parent's
    size, so it is only the fallback where /proc is missing (its unit is KiB on Linux, bytes on macOS).
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def received_now(event: dict[str, Any]) -> dict[str, Any]:
    """The event as API Gateway would hand it over now: its receive time is when the handler's deadline
    starts, so a replayed event must not carry the time it was first written."""
    context = event.get("requestContext")
    if isinstance(context, dict) and "timeEpoch" in context:
        context["timeEpoch"] = int(time.time() * 1000)
    return event


def tool_names(response: dict[str, Any]) -> list[str]:
    if response.get("statusCode") != 200:
        raise RuntimeError(f"status {response.get('statusCode')}: {str(response.get('body'))[:300]}")
    body = json.loads(response["body"])
    return sorted(tool["name"] for tool in body["result"]["tools"])


def main(target: str, event_file: str, warm_calls: int, output_file: str) -> None:
    with open(event_file) as handle:
        event = json.load(handle)
    module_name, attribute = target.split(":")

    started = time.perf_counter()
    handler = getattr(importlib.import_module(module_name), attribute)
    imported = time.perf_counter()
    names = tool_names(handler(received_now(event), LambdaContext()))
    first = time.perf_counter()

    warm: list[float] = []
    failures: list[str] = []
    for _ in range(warm_calls):
        begin = time.perf_counter()
        try:
            tool_names(handler(received_now(event), LambdaContext()))
        except Exception as exc:
            failures.append(f"{type(exc).__name__}: {exc}"[:300])
            continue
        warm.append(time.perf_counter() - begin)

    result = {
        "import_s": imported - started,
        "first_call_s": first - imported,
        "cold_s": first - started,
        "tools": names,
        "warm_s": warm,
        "warm_failures": len(failures),
        "warm_failure_examples": sorted(set(failures))[:2],
        "peak_rss_kib": peak_rss_kib(),
        "ru_maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
    with open(output_file, "w") as handle:
        json.dump(result, handle)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4])
