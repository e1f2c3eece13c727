"""`imagegen serve` as a user runs it: a real process, a printed token and config, then a working endpoint,
on the local backend and on the emulated AWS stack."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from imagegen.web.client_config import client_configs
from tests.support.cli_process import IMAGEGEN, wait_for_health
from tests.support.local_server import LocalServer
from tests.support.servers import free_port

TOKEN = "cli-serve-token-0123456789abcdef"


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
        health = wait_for_health(process, port)
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
        line
        for line in printed.splitlines()
        if line.startswith("npx --yes -p node@22 -p @modelcontextprotocol/inspector@")
    )
    assert inspector_line.endswith("--method tools/list") and token in inspector_line
    assert (tmp_path / "auth_token").stat().st_mode & 0o077 == 0


def test_serve_aws_with_moto_runs_the_deployed_handlers_and_leaves_no_process_behind(tmp_path: Path) -> None:
    # Given `imagegen serve --backend aws --moto` started as a user starts it (the README's command)
    port = free_port()
    env = {**os.environ, "IMAGEGEN_DATA_DIR": str(tmp_path), "PORT": str(port), "AUTH_TOKEN": TOKEN}
    for name in ("AWS_ENDPOINT_URL", "CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_API_TOKEN", "AUTH_TOKENS"):
        env.pop(name, None)
    process = subprocess.Popen(
        [*IMAGEGEN, "serve", "--backend", "aws", "--moto"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        health = wait_for_health(process, port)
        # When a client lists the tools
        listed = httpx.post(
            f"http://127.0.0.1:{port}/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
            headers={
                "authorization": f"Bearer {TOKEN}",
                "accept": "application/json, text/event-stream",
                "mcp-protocol-version": "2025-11-25",
            },
            timeout=30,
        )
        runtimes = _runtime_processes(process.pid)
    finally:
        # And then stops the server with Ctrl-C
        process.send_signal(signal.SIGINT)
        output, errors = process.communicate(timeout=30)

    # Then the real API handler answered from its own Lambda environment, and nothing outlives the server
    printed = output + errors
    assert health.json()["provider"] == "preview"
    assert listed.status_code == 200 and "generate_image_and_wait" in listed.text
    assert runtimes, "the handler should run in a separate runtime process"
    assert f"http://127.0.0.1:{port}/mcp" in printed and "emulated API Gateway" in printed
    assert "REPORT RequestId" in printed and "Init Duration" in printed
    assert process.returncode == 0
    assert not [pid for pid in runtimes if Path(f"/proc/{pid}").exists()]


def _runtime_processes(parent: int) -> list[int]:
    """The Lambda runtime processes the server started (children running awslambdaric)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[1]) == parent and b"awslambdaric" in command:
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(shutil.which("npx") is None, reason="needs npx")
def test_the_printed_inspector_command_runs_as_printed_on_the_machines_node(server: LocalServer) -> None:
    # The command `imagegen serve` prints, with this server's URL and token, run by the Node the user has
    command = client_configs(server.mcp_url, server.token)["MCP Inspector (CLI)"]

    result = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=600, check=False)

    assert result.returncode == 0, result.stderr[-2000:]
    assert "generate_image_and_wait" in result.stdout
