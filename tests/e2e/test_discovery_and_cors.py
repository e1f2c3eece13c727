"""Discovery page, icon and CORS."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from imagegen.web.client_config import VSCODE
from tests.e2e.conftest import Backend
from tests.support.local_server import TOKEN, LocalServer, local_server


async def test_discovery_page_lists_every_tool_the_server_reports(server: LocalServer) -> None:
    async with server.client() as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}

    page = httpx.get(server.url + "/", headers={"accept": "text/html"})
    document = httpx.get(server.url + "/", headers={"accept": "application/json"}).json()

    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for name in tools:
        assert f"<code>{name}</code>" in page.text
    assert {tool["name"] for tool in document["tools"]} == tools
    assert document["endpoints"]["mcp"] == server.mcp_url
    assert server.mcp_url in document["client_configs"]["Claude Code"]
    # Hosts that speak OAuth get the URL alone: no token to paste.
    vscode = json.loads(document["client_configs"][VSCODE])
    assert vscode == {"servers": {"imagegen": {"type": "http", "url": server.mcp_url}}}
    assert "/.well-known/oauth-protected-resource/mcp" in document["authentication"]
    assert TOKEN not in page.text, "the public page must never show a real token"


def test_no_cors_headers_by_default(server: LocalServer) -> None:
    preflight = httpx.options(
        server.mcp_url,
        headers={"origin": "http://localhost:6274", "access-control-request-method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_cors_preflight_answers_for_configured_origin_only(tmp_path: Path) -> None:
    with local_server(tmp_path, cors_allowed_origins=["http://localhost:6274"]) as srv:
        allowed = httpx.options(
            srv.mcp_url,
            headers={
                "origin": "http://localhost:6274",
                "access-control-request-method": "POST",
                "access-control-request-headers": "authorization,content-type,mcp-protocol-version",
            },
        )
        denied = httpx.options(
            srv.mcp_url,
            headers={"origin": "http://evil.example", "access-control-request-method": "POST"},
        )
        call = httpx.post(
            srv.mcp_url,
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
            headers={
                "origin": "http://localhost:6274",
                "authorization": f"Bearer {TOKEN}",
                "accept": "application/json, text/event-stream",
                "mcp-protocol-version": "2025-06-18",
            },
        )

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:6274"
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    assert denied.status_code == 400
    assert call.status_code == 200
    assert call.headers["access-control-allow-origin"] == "http://localhost:6274"


def test_the_discovery_page_escapes_the_token_placeholder_and_wraps_long_commands(backend: Backend) -> None:
    page = httpx.get(f"{backend.url}/", headers={"accept": "text/html"}).text

    assert "Replace <code>&lt;YOUR_TOKEN&gt;</code> with your bearer token" in page
    assert "white-space:pre-wrap" in page


def test_the_favicon_is_an_icon_on_both_backends(backend: Backend) -> None:
    response = httpx.get(f"{backend.url}/favicon.ico")

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # the ICO signature
