"""The clients people use, on both backends: the TypeScript SDK (what Claude Desktop and Code, Cursor, VS
Code and the Inspector are built on) and the Python `mcp` client, doing what a host does.

The TypeScript SDK opens `GET /mcp` for server-to-client messages right after `initialize`; a stateless
server must answer it (405) or the client hangs and, behind API Gateway, every connect holds a Lambda.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from imagegen.domain.image_format import detect_image_format
from tests.e2e.conftest import Backend, structured
from tests.support.node_scripts import run_node_report

ROOT = Path(__file__).resolve().parents[2]
TS_CLIENT = ROOT / "tests" / "clients" / "ts_sdk_client.mjs"
TS_SDK = ROOT / "node_modules" / "@modelcontextprotocol" / "sdk"
# The Node that users have (the README asks for 20), not the Node 22 the conformance suite brings along.
NODE = shutil.which("node")


def run_ts_client(backend: Backend, token: str | None = None) -> tuple[int, dict[str, Any]]:
    assert NODE is not None
    return run_node_report(NODE, TS_CLIENT, backend.mcp_url, token or backend.token, "a lighthouse at dusk")


@pytest.mark.skipif(NODE is None or not TS_SDK.exists(), reason="needs node and `npm ci` (make test does)")
def test_typescript_sdk_client_generates_fetches_and_calls_again(backend: Backend) -> None:
    # When the TypeScript SDK connects as a host does, generates an image, fetches it and calls again
    code, report = run_ts_client(backend)

    # Then every step succeeds on the same connection, with no transport error along the way
    assert code == 0, report
    assert [step["name"] for step in report["steps"] if not step["ok"]] == []
    assert "transportErrors" not in report, report["transportErrors"]
    assert "generate_image_and_wait" in report["tools"]
    assert report["structured"]["status"] == "completed"
    assert report["image"]["status"] == 200
    assert report["image"]["contentType"].startswith("image/")
    assert report["secondCall"] == {"isError": False, "status": "completed"}
    assert {"text", "resource_link"} <= set(report["contentTypes"])


@pytest.mark.skipif(NODE is None or not TS_SDK.exists(), reason="needs node and `npm ci` (make test does)")
def test_typescript_sdk_client_reports_a_wrong_token(backend: Backend) -> None:
    code, report = run_ts_client(backend, token="not-the-token-0123456789")

    assert code == 1
    assert "invalid_token" in report["error"], report


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_python_client_generates_waits_and_reads_the_image(backend: Backend, mode: str) -> None:
    async with backend.client(mode=mode) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        generated = await client.call_tool("generate_image_and_wait", {"prompt": "a paper boat"})
        job = await client.call_tool("get_job_status", {"job_id": structured(generated)["job_id"]})

    assert "generate_image_and_wait" in tools
    assert not generated.is_error, generated
    outcome = structured(generated)
    assert outcome["status"] == "completed" and outcome["jobs"][0]["provider"] == "preview"
    assert structured(job)["status"] == "completed"
    image = httpx.get(outcome["image_url"])
    assert image.status_code == 200 and detect_image_format(image.content) is not None


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_get_and_delete_on_the_endpoint_answer_405_with_allow(backend: Backend, method: str) -> None:
    response = httpx.request(
        method,
        backend.mcp_url,
        headers={
            "authorization": f"Bearer {backend.token}",
            "accept": "text/event-stream, application/json",
            "mcp-protocol-version": "2025-11-25",
        },
        timeout=10,
    )

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert "stateless" in response.json()["error"]["message"]


def test_an_unauthenticated_get_is_asked_for_a_token_first(backend: Backend) -> None:
    response = httpx.get(backend.mcp_url, headers={"accept": "text/event-stream"}, timeout=10)

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_health_names_the_provider(backend: Backend) -> None:
    health = httpx.get(f"{backend.url}/healthz", timeout=10)

    assert health.status_code == 200
    assert health.json()["status"] == "ok" and health.json()["provider"] == "preview"
