"""The official MCP conformance suite (@modelcontextprotocol/conformance, run with Node 22) against the server.

The suite sends no Authorization header, so it talks to the server through a proxy that adds the token;
Host and Origin pass through, so the DNS-rebinding checks are the server's own.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.auth_proxy import auth_proxy
from tests.support.local_server import local_server
from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
NODE = ROOT / "node_modules" / ".bin" / "node"
CONFORMANCE = ROOT / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"

pytestmark = pytest.mark.skipif(
    not (NODE.exists() and CONFORMANCE.exists()),
    reason="conformance suite not installed: run `npm ci` (make test does)",
)

GENERIC_SCENARIOS = [
    "server-initialize",
    "ping",
    "tools-list",
    "tools-call-error",
    "resources-list",
    "prompts-list",
    "dns-rebinding-protection",
]


@pytest.fixture(scope="module")
def proxied_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    proxy_port = free_port()
    data = tmp_path_factory.mktemp("conformance")
    # The proxy's own address is where the suite's requests come from, so it is an allowed Host.
    hosts = [f"127.0.0.1:{proxy_port}", f"localhost:{proxy_port}"]
    with (
        local_server(data, allowed_hosts=hosts) as server,
        auth_proxy(server.url, server.token, proxy_port) as url,
    ):
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
