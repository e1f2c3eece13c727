"""The MCP Inspector CLI, the client most users try first, against the local server: the README's command."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.support.local_server import LocalServer

ROOT = Path(__file__).resolve().parents[2]
NODE = ROOT / "node_modules" / ".bin" / "node"
INSPECTOR = ROOT / "node_modules" / ".bin" / "mcp-inspector"

pytestmark = pytest.mark.skipif(
    not (NODE.exists() and INSPECTOR.exists()),
    reason="MCP Inspector not installed: run `npm ci` (make test does)",
)


def inspector(
    server: LocalServer, *arguments: str, token: str | None = None
) -> subprocess.CompletedProcess[str]:
    command = [str(NODE), str(INSPECTOR), "--cli", server.mcp_url, "--transport", "http"]
    command += ["--header", f"Authorization: Bearer {token or server.token}", *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_tools_list_passes_the_strict_schema_portability_check(server: LocalServer) -> None:
    result = inspector(server, "--method", "tools/list", "--strict")

    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr and "Error" not in result.stderr, result.stderr
    names = {tool["name"] for tool in json.loads(result.stdout)["tools"]}
    assert {"generate_image", "generate_image_and_wait", "wait_for_completion", "list_models"} <= names


def test_generate_image_and_wait_returns_an_image_url(server: LocalServer) -> None:
    result = inspector(
        server,
        "--method",
        "tools/call",
        "--tool-name",
        "generate_image_and_wait",
        "--tool-arg",
        "prompt=a red fox",
    )

    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["structuredContent"]["status"] == "completed"
    assert output["structuredContent"]["image_url"].startswith(server.url + "/images/")


def test_a_wrong_token_is_refused(server: LocalServer) -> None:
    result = inspector(server, "--method", "tools/list", token="wrong-token-0000000000")

    # The 401 challenge makes the Inspector report that authentication is required (it would start OAuth
    # on a terminal; this server uses static bearer keys).
    assert result.returncode != 0
    assert "auth_required" in result.stdout + result.stderr
