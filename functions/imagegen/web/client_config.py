"""Ready-to-paste client configurations, shared by `imagegen serve` and the discovery page."""

from __future__ import annotations

import json

SERVER_KEY = "imagegen"


def client_configs(mcp_url: str, token: str) -> dict[str, str]:
    """Snippets keyed by client name. `token` may be a placeholder such as '<YOUR_TOKEN>'."""
    header = f"Authorization: Bearer {token}"
    cursor = {"mcpServers": {SERVER_KEY: {"url": mcp_url, "headers": {"Authorization": f"Bearer {token}"}}}}
    # Claude Desktop's config file speaks stdio; mcp-remote bridges it to a remote HTTP server.
    claude_desktop = {
        "mcpServers": {
            SERVER_KEY: {
                "command": "npx",
                "args": ["-y", "mcp-remote", mcp_url, "--header", "Authorization:${AUTH_HEADER}"],
                "env": {"AUTH_HEADER": f"Bearer {token}"},
            }
        }
    }
    return {
        "MCP Inspector (CLI)": (
            f'npx @modelcontextprotocol/inspector --cli {mcp_url} --transport http --header "{header}" '
            "--method tools/list"
        ),
        "Claude Code": f'claude mcp add --transport http {SERVER_KEY} {mcp_url} --header "{header}"',
        "Cursor (~/.cursor/mcp.json)": json.dumps(cursor, indent=2),
        "Claude Desktop (claude_desktop_config.json)": json.dumps(claude_desktop, indent=2),
    }
