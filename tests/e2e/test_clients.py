"""The clients people use, on both backends: the TypeScript SDK (what Claude Desktop and Code, Cursor, VS
Code and the Inspector are built on) and the Python `mcp` client, doing what a host does, with a static
key and, like hosts that add a server by its URL alone, with nothing but OAuth.

The TypeScript SDK opens `GET /mcp` for server-to-client messages right after `initialize`; a stateless
server must answer it (405) or the client hangs and, behind API Gateway, every connect holds a Lambda.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken
from pydantic import AnyUrl

from imagegen.domain.image_format import detect_image_format
from tests.e2e.conftest import Backend, structured
from tests.support.node_scripts import run_node_report
from tests.support.oauth_flow import REDIRECT_URI, OAuthDriver, query_of

ROOT = Path(__file__).resolve().parents[2]
TS_CLIENT = ROOT / "tests" / "clients" / "ts_sdk_client.mjs"
TS_OAUTH_CLIENT = ROOT / "tests" / "clients" / "ts_sdk_oauth_client.mjs"
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


@pytest.mark.skipif(NODE is None or not TS_SDK.exists(), reason="needs node and `npm ci` (make test does)")
@pytest.mark.parametrize("registration", ["dynamic", "client_id_metadata_document"])
def test_typescript_sdk_oauth_client_adds_the_server_by_url_alone(
    backend: Backend, registration: str
) -> None:
    # Given only the server's URL, a key to sign in with, and (for a metadata-document client) its URL
    arguments = [backend.mcp_url, backend.token]
    if registration == "client_id_metadata_document":
        arguments.append(backend.documents.client("/ts-sdk-client.json", [REDIRECT_URI], name="TS SDK host"))
    assert NODE is not None

    # When the SDK's own OAuth client connects, authorizes, calls tools and refreshes
    code, report = run_node_report(NODE, TS_OAUTH_CLIENT, *arguments, timeout=120)

    # Then every step succeeds, with what the MCP authorization spec asks of both sides
    assert code == 0, report
    assert [step["name"] for step in report["steps"] if not step["ok"]] == []
    assert report["registration"] == registration
    assert report["hasClientSecret"] is (registration == "dynamic")
    request = report["authorizationRequest"]
    assert request["code_challenge_method"] == "S256" and request["resource"] == backend.mcp_url
    assert request["scope"] == "imagegen"
    assert report["callback"] == {"redirectUri": REDIRECT_URI, "stateRoundTripped": True, "iss": backend.url}
    assert report["consentPage"] == {"frameAncestorsNone": True, "xFrameOptions": "DENY"}
    assert "generate_image_and_wait" in report["tools"]
    assert report["structured"] == {"status": "completed", "isError": False}
    assert report["refreshed"] == {"newAccessToken": True, "newRefreshToken": True}
    assert report["secondCall"] == {"isError": False, "status": "completed"}


class _MemoryStorage:
    """The Python SDK's TokenStorage, in memory."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


async def test_python_sdk_oauth_client_adds_the_server_by_url_alone(backend: Backend) -> None:
    browser = OAuthDriver(backend.url)
    callbacks: list[str] = []

    async def open_browser(authorization_url: str) -> None:
        callbacks.append(await asyncio.to_thread(browser.sign_in, authorization_url, backend.other_token))

    async def receive_callback() -> AuthorizationCodeResult:
        answer = query_of(callbacks[-1])
        return AuthorizationCodeResult(code=answer["code"], state=answer.get("state"), iss=answer.get("iss"))

    storage = _MemoryStorage()
    provider = OAuthClientProvider(
        server_url=backend.mcp_url,
        client_metadata=OAuthClientMetadata(
            client_name="imagegen Python SDK OAuth check",
            redirect_uris=[AnyUrl(REDIRECT_URI)],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=open_browser,
        callback_handler=receive_callback,
    )
    try:
        async with (
            httpx2.AsyncClient(auth=provider, timeout=httpx2.Timeout(30, read=120)) as http,
            Client(streamable_http_client(backend.mcp_url, http_client=http)) as client,
        ):
            tools = {tool.name for tool in (await client.list_tools()).tools}
            created = structured(await client.call_tool("generate_image", {"prompt": "a lantern"}))
        async with backend.client(token=backend.other_token) as as_key:
            seen = structured(await as_key.call_tool("get_job_status", {"job_id": created["job_id"]}))
    finally:
        browser.close()

    assert "generate_image" in tools and len(callbacks) == 1
    assert storage.tokens is not None and storage.tokens.refresh_token
    assert seen["job_id"] == created["job_id"]  # the token acted as the key that signed in


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
