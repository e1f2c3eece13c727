"""`imagegen serve` as a user runs it: a real process, a printed token and config, then a working endpoint."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.servers import free_port

IMAGEGEN = [sys.executable, "-c", "from imagegen.cli import main; main()"]


def test_help_explains_the_commands() -> None:
    result = subprocess.run([*IMAGEGEN, "--help"], capture_output=True, text=True, check=True)
    assert "serve" in result.stdout
    assert "Workers AI" in result.stdout


def test_serve_prints_token_and_configs_and_keeps_the_token(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "IMAGEGEN_DATA_DIR": str(tmp_path), "PORT": str(port), "COLUMNS": "60"}
    for name in ("AUTH_TOKEN", "AUTH_TOKENS", "CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_API_TOKEN"):
        env.pop(name, None)
    process = subprocess.Popen(
        [*IMAGEGEN, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        token = (tmp_path / "auth_token").read_text().strip()
        listed = httpx.post(
            f"http://127.0.0.1:{port}/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
            headers={
                "authorization": f"Bearer {token}",
                "accept": "application/json, text/event-stream",
                "mcp-protocol-version": "2025-06-18",
            },
        )
    finally:
        process.send_signal(signal.SIGINT)
        output, errors = process.communicate(timeout=20)

    printed = output + errors
    assert health.json()["provider"] == "preview"
    assert listed.status_code == 200 and "generate_image_and_wait" in listed.text
    assert token in printed
    assert f"http://127.0.0.1:{port}/mcp" in printed
    assert "@modelcontextprotocol/inspector" in printed and "mcpServers" in printed
    # Commands are printed on one line each, so they can be pasted whatever the terminal width.
    inspector_line = next(
        line for line in printed.splitlines() if line.startswith("npx @modelcontextprotocol")
    )
    assert inspector_line.endswith("--method tools/list") and token in inspector_line
    assert (tmp_path / "auth_token").stat().st_mode & 0o077 == 0
