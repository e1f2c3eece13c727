"""The MCP Inspector CLI, the client most users try first, on both backends: the README's command."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import pytest

from imagegen.domain.image_format import detect_image_format
from tests.e2e.conftest import Backend

ROOT = Path(__file__).resolve().parents[2]
NODE = ROOT / "node_modules" / ".bin" / "node"
INSPECTOR = ROOT / "node_modules" / ".bin" / "mcp-inspector"

pytestmark = pytest.mark.skipif(
    not (NODE.exists() and INSPECTOR.exists()),
    reason="MCP Inspector not installed: run `npm ci` (make test does)",
)


def inspector(
    backend: Backend, *arguments: str, token: str | None = None
) -> subprocess.CompletedProcess[str]:
    command = [str(NODE), str(INSPECTOR), "--cli", backend.mcp_url, "--transport", "http"]
    command += ["--header", f"Authorization: Bearer {token or backend.token}", *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_tools_list_passes_the_strict_schema_portability_check(backend: Backend) -> None:
    result = inspector(backend, "--method", "tools/list", "--strict")

    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr and "Error" not in result.stderr, result.stderr
    names = {tool["name"] for tool in json.loads(result.stdout)["tools"]}
    assert {"generate_image", "generate_image_and_wait", "wait_for_completion", "list_models"} <= names


def test_generate_image_and_wait_returns_an_image_url_that_serves_the_image(backend: Backend) -> None:
    result = inspector(
        backend,
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
    image = httpx.get(output["structuredContent"]["image_url"])
    assert image.status_code == 200 and detect_image_format(image.content) is not None


def test_a_wrong_token_is_refused(backend: Backend) -> None:
    result = inspector(backend, "--method", "tools/list", token="wrong-token-0000000000")

    # The 401 challenge makes the Inspector report that authentication is required: its CLI has no browser
    # to start the OAuth flow the challenge points to.
    assert result.returncode != 0
    assert "auth_required" in result.stdout + result.stderr
