"""`imagegen` run as a user runs it: a real process, reached over HTTP."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import httpx

from tests.support.rpc import mcp_headers, tool_call, tool_result

IMAGEGEN = [sys.executable, "-c", "from imagegen.cli import main; main()"]


def wait_for_health(process: subprocess.Popen[str], port: int) -> httpx.Response:
    deadline = time.monotonic() + 60
    while True:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=30)
        except httpx.TransportError:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)


def call_tool(port: int, token: str, name: str, arguments: dict[str, Any], timeout: float = 60) -> Any:
    """One stateless tools/call; returns the result's structured content."""
    response = httpx.post(
        f"http://127.0.0.1:{port}/mcp",
        json=tool_call(name, arguments),
        headers=mcp_headers(token),
        timeout=timeout,
    )
    return tool_result(response)
