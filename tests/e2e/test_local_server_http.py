"""The local server at the HTTP level: auth, host checks, malformed requests, SSE, health, restarts."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import httpx2
from mcp.client.session import ClientSession
from mcp.client.sse import sse_client

from imagegen.adapters.preview_provider import PreviewProvider
from imagegen.adapters.sqlite_store import SqliteJobStore
from imagegen.domain.models import JobStatus
from tests.support.builders import T0, make_job
from tests.support.local_server import TOKEN, LocalServer, local_server

INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
}
MCP_HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


def rpc_body(response: httpx.Response) -> dict[str, object]:
    """The JSON-RPC message of a response, whether sent as JSON or as one SSE `message` event."""
    if response.headers["content-type"].startswith("text/event-stream"):
        data = [line[5:].strip() for line in response.text.splitlines() if line.startswith("data:")]
        return json.loads(data[-1])  # type: ignore[no-any-return]
    return response.json()  # type: ignore[no-any-return]


def post_mcp(server: LocalServer, body: bytes | dict[str, object], **headers: str) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    all_headers = {**MCP_HEADERS, "authorization": f"Bearer {TOKEN}", **headers}
    return httpx.post(server.mcp_url, content=content, headers=all_headers)


def test_missing_token_gets_401_with_bearer_challenge(server: LocalServer) -> None:
    response = httpx.post(server.mcp_url, json=INIT, headers=MCP_HEADERS)

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith('Bearer realm="imagegen"')
    assert response.json()["error"] == "invalid_token"


def test_wrong_token_and_wrong_scheme_get_401(server: LocalServer) -> None:
    wrong = post_mcp(server, INIT, authorization="Bearer not-the-token")
    basic = post_mcp(server, INIT, authorization=f"Basic {TOKEN}")

    assert wrong.status_code == 401
    assert basic.status_code == 401
    assert "Bearer scheme" in basic.json()["error_description"]


def test_token_in_query_string_is_refused(server: LocalServer) -> None:
    response = httpx.post(f"{server.mcp_url}?access_token={TOKEN}", json=INIT, headers=MCP_HEADERS)

    assert response.status_code == 401
    assert "query string" in response.json()["error_description"]


def test_sse_endpoint_requires_the_token_too(server: LocalServer) -> None:
    assert httpx.get(f"{server.url}/sse").status_code == 401
    assert httpx.post(f"{server.url}/messages/?session_id=x", json=INIT).status_code == 401


def test_valid_token_initializes(server: LocalServer) -> None:
    response = post_mcp(server, INIT)

    assert response.status_code == 200
    assert rpc_body(response)["result"]["serverInfo"]["name"] == "imagegen"  # type: ignore[index]


def test_foreign_host_header_is_rejected(server: LocalServer) -> None:
    response = post_mcp(server, INIT, host="evil.example:80")
    assert response.status_code == 421


def test_foreign_origin_is_rejected(server: LocalServer) -> None:
    response = post_mcp(server, INIT, origin="http://evil.example")
    assert response.status_code == 403


def test_malformed_json_gets_a_json_rpc_parse_error(server: LocalServer) -> None:
    response = post_mcp(server, b"{not json")

    assert response.status_code == 400
    assert rpc_body(response)["error"]["code"] == -32700  # type: ignore[index]


def test_not_a_json_rpc_message_gets_an_error(server: LocalServer) -> None:
    response = post_mcp(server, {"hello": "world"})

    assert response.status_code == 400
    assert rpc_body(response)["error"]["code"] in (-32600, -32602, -32700)  # type: ignore[index]


def test_oversized_body_is_refused(server: LocalServer) -> None:
    huge = {**INIT, "params": {**INIT["params"], "padding": "x" * 2_000_000}}  # type: ignore[dict-item]
    response = post_mcp(server, huge)
    assert response.status_code == 413


def test_health_and_missing_image(server: LocalServer) -> None:
    health = httpx.get(f"{server.url}/healthz")
    alias = httpx.get(f"{server.url}/health")
    missing = httpx.get(f"{server.url}/images/00000000-0000-4000-8000-000000000000.png")
    escape = httpx.get(f"{server.url}/images/..%2F..%2Fimagegen.db")
    nul = httpx.get(f"{server.url}/images/%00")

    assert health.status_code == 200 and health.json()["provider"] == "preview"
    assert alias.json() == health.json()
    assert missing.status_code == 404
    assert escape.status_code == 404
    assert nul.status_code == 404


async def test_legacy_sse_clients_can_generate(server: LocalServer) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with (
        sse_client(f"{server.url}/sse", headers=headers) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        result = await session.call_tool("generate_image_and_wait", {"prompt": "over sse"})

    assert result.structured_content is not None
    assert result.structured_content["status"] == "completed"


async def test_protocol_2025_11_25_header_is_served(server: LocalServer) -> None:
    headers = {**MCP_HEADERS, "authorization": f"Bearer {TOKEN}", "mcp-protocol-version": "2025-11-25"}
    body = {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}
    async with httpx2.AsyncClient() as http:
        response = await http.post(server.mcp_url, json=body, headers=headers)

    assert response.status_code == 200
    assert "generate_image" in response.text


async def test_pending_job_left_by_a_crash_completes_after_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    # Given a job the previous process accepted and one it was processing when it died
    store = SqliteJobStore(data_dir / "imagegen.db")
    pending, interrupted = make_job(owner="default"), make_job(owner="default")
    await store.create_jobs([pending, interrupted])
    await store.claim_job(interrupted.job_id, T0, 300)
    store.close()

    # When the server starts again
    with local_server(data_dir, provider=PreviewProvider()) as restarted:
        async with restarted.client() as client:
            result = await client.call_tool(
                "wait_for_completion",
                {"job_ids": [pending.job_id, interrupted.job_id], "timeout_seconds": 10},
            )

    # Then both are completed: nothing was lost
    assert result.structured_content is not None
    assert [job["status"] for job in result.structured_content["jobs"]] == [JobStatus.COMPLETED] * 2


async def test_a_job_that_keeps_killing_the_server_is_failed_at_start(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    store = SqliteJobStore(data_dir / "imagegen.db")
    poison = make_job(owner="default")
    await store.create_jobs([poison])
    for _ in range(3):  # three starts, each ended by the process dying mid-generation
        await store.release_job(poison.job_id, T0)
        await store.claim_job(poison.job_id, T0, 300)
    store.close()

    with local_server(data_dir) as restarted:
        async with restarted.client() as client:
            status = await client.call_tool("get_job_status", {"job_id": poison.job_id})

    assert status.structured_content is not None
    assert status.structured_content["status"] == "failed"
    assert status.structured_content["error_code"] == "internal_error"


async def test_one_crashing_job_does_not_stop_the_others(tmp_path: Path) -> None:
    class ExplodingOnce(PreviewProvider):
        def __init__(self) -> None:
            super().__init__()
            self.exploded = False

        async def generate(self, request):  # type: ignore[no-untyped-def]
            if not self.exploded:
                self.exploded = True
                raise RuntimeError("bug in a provider")
            return await super().generate(request)

    with local_server(tmp_path, provider=ExplodingOnce()) as srv:
        async with srv.client() as client:
            batch = await client.call_tool("generate_image", {"prompt": "a fox", "count": 3})
            ids = batch.structured_content["job_ids"]  # type: ignore[index]
            result = await client.call_tool("wait_for_completion", {"job_ids": ids})
            await asyncio.sleep(0)

    statuses = sorted(job["status"] for job in result.structured_content["jobs"])  # type: ignore[index]
    assert statuses == ["completed", "completed", "failed"]
    failed = next(job for job in result.structured_content["jobs"] if job["status"] == "failed")  # type: ignore[index]
    assert failed["error_code"] == "internal_error"
