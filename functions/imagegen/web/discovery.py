"""`GET /`: what this server is, its tools (from the live tool list) and ready-to-paste client configs."""

from __future__ import annotations

import html
from typing import Any

from mcp.server.mcpserver import MCPServer
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from imagegen import __version__
from imagegen.web.client_config import client_configs
from imagegen.web.oauth.urls import OAuthUrls

TOKEN_PLACEHOLDER = "<YOUR_TOKEN>"  # noqa: S105 - shown to users, never a credential


async def discovery_document(
    server: MCPServer, base_url: str, mcp_path: str, sse_path: str | None
) -> dict[str, Any]:
    tools = await server.list_tools()
    mcp_url = f"{base_url}{mcp_path}"
    return {
        "name": server.name,
        "title": server.title,
        "version": __version__,
        "description": server.instructions,
        "endpoints": {
            "mcp": mcp_url,
            **({"sse": f"{base_url}{sse_path}"} if sse_path else {}),
            "health": f"{base_url}/health",
        },
        "authentication": (
            "Authorization: Bearer <token> on the MCP endpoints: a key of this server, or an OAuth 2.1 "
            "access token. Hosts that add the server by URL (Claude, ChatGPT, VS Code) find the OAuth "
            f"metadata at {OAuthUrls(base_url).resource_metadata} and sign in with a key "
            "on the consent page."
        ),
        "tools": [
            {
                "name": tool.name,
                "title": tool.title,
                "description": tool.description,
                "annotations": tool.annotations.model_dump(exclude_none=True) if tool.annotations else {},
            }
            for tool in tools
        ],
        "client_configs": client_configs(mcp_url, TOKEN_PLACEHOLDER),
    }


def render_html(document: dict[str, Any]) -> str:
    esc = html.escape
    tools = "\n".join(
        f"<tr><td><code>{esc(tool['name'])}</code></td><td>{esc(tool['description'] or '')}</td></tr>"
        for tool in document["tools"]
    )
    configs = "\n".join(
        f"<h3>{esc(client)}</h3><pre><code>{esc(snippet)}</code></pre>"
        for client, snippet in document["client_configs"].items()
    )
    endpoints = "\n".join(
        f"<li>{esc(name)}: <code>{esc(url)}</code></li>" for name, url in document["endpoints"].items()
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{esc(document["title"] or document["name"])}</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}}
pre{{background:#f4f4f4;padding:.75rem;white-space:pre-wrap;overflow-wrap:anywhere}}td{{vertical-align:top;padding:.25rem .5rem}}
table{{border-collapse:collapse}}tr:nth-child(odd){{background:#fafafa}}</style></head>
<body><h1>{esc(document["title"] or document["name"])} <small>v{esc(document["version"])}</small></h1>
<p>A remote MCP server for AI image generation. {esc(document["description"] or "")}</p>
<h2>Endpoints</h2><ul>{endpoints}</ul><p>{esc(document["authentication"])}</p>
<h2>Tools</h2><table>{tools}</table>
<h2>Connect a client</h2><p>Replace <code>{esc(TOKEN_PLACEHOLDER)}</code> with your bearer token, or add the
URL alone where the client speaks OAuth.</p>{configs}
</body></html>"""


async def discovery_response(
    request: Request, server: MCPServer, *, base_url: str, mcp_path: str, sse_path: str | None
) -> Response:
    """The page for the configured public URL. Never from the request's Host or X-Forwarded-Proto, which
    anyone can set: a page that printed them would hand out links to wherever the request pointed."""
    document = await discovery_document(server, base_url.rstrip("/"), mcp_path, sse_path)
    if "application/json" in request.headers.get("accept", "") and "text/html" not in request.headers.get(
        "accept", ""
    ):
        return JSONResponse(document)
    return HTMLResponse(render_html(document))
