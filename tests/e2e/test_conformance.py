"""The official MCP conformance suite (@modelcontextprotocol/conformance, run with Node 22) on both backends.

The suite sends no Authorization header, so it talks to the server through a proxy that adds the token;
Host and Origin pass through, so the DNS-rebinding checks are the server's own (on the AWS path, the
emulated API Gateway's, which answers only for its own names as API Gateway does).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Backend
from tests.support.auth_proxy import auth_proxy

ROOT = Path(__file__).resolve().parents[2]
NODE = ROOT / "node_modules" / ".bin" / "node"
CONFORMANCE = ROOT / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"

pytestmark = pytest.mark.skipif(
    not (NODE.exists() and CONFORMANCE.exists()),
    reason="conformance suite not installed: run `npm ci` (make test does)",
)

# The suite's scenarios that apply to this server (tools and resources, no prompts). The others test
# fixtures of the suite's own reference server (a `test_error_handling` tool, test prompts and
# resources); `tools-call-error` and `prompts-list` used to pass here only because an unknown tool was
# answered as a tool result and an empty prompt list was declared, both against the specification.
GENERIC_SCENARIOS = [
    "server-initialize",
    "ping",
    "tools-list",
    "resources-list",
    "dns-rebinding-protection",
]


@pytest.fixture
def proxied_url(backend: Backend) -> Iterator[str]:
    # The proxy's own address is where the suite's requests come from, so it is an allowed Host.
    with auth_proxy(backend.url, backend.token, backend.proxy_port) as url:
        yield f"{url}/mcp"


@pytest.mark.parametrize("scenario", GENERIC_SCENARIOS)
def test_conformance_scenario_passes(proxied_url: str, scenario: str) -> None:
    result = subprocess.run(
        [str(NODE), str(CONFORMANCE), "server", "--url", proxied_url, "--scenario", scenario],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "0 failed" in output, output[-3000:]
