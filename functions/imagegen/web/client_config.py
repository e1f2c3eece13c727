"""Ready-to-paste client configurations, shared by `imagegen serve` and the discovery page."""

from __future__ import annotations

import json

SERVER_KEY = "imagegen"
# The Inspector the project tests with (package.json). It needs Node 22, so the printed command brings
# Node 22 along (`-p node@22`) and works from the Node 20 the README asks for; without `--yes`, npx
# stops to ask when there is no terminal.
INSPECTOR_VERSION = "2.12.0"


OAUTH_CLIENTS = "Claude, ChatGPT (connectors, by URL)"
VSCODE = "VS Code (.vscode/mcp.json)"


def client_configs(mcp_url: str, token: str) -> dict[str, str]:
    """Snippets keyed by client name. `token` may be a placeholder such as '<YOUR_TOKEN>'. Hosts that add a
    server by its URL alone need no token: they sign in through OAuth, with a key, on the consent page."""
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
    # VS Code finds the OAuth metadata from the 401 and opens the consent page in the browser.
    vscode = {"servers": {SERVER_KEY: {"type": "http", "url": mcp_url}}}
    return {
        OAUTH_CLIENTS: (
            f"Settings > Connectors > Add custom connector, URL {mcp_url} once it is reachable from the "
            "internet over https (they connect from their own servers: deploy, or use a tunnel and "
            "PUBLIC_BASE_URL); then sign in with your key on the page that opens"
        ),
        VSCODE: json.dumps(vscode, indent=2),
        "MCP Inspector (CLI)": (
            f"npx --yes -p node@22 -p @modelcontextprotocol/inspector@{INSPECTOR_VERSION} mcp-inspector "
            f'--cli {mcp_url} --transport http --header "{header}" --method tools/list'
        ),
        "Claude Code": f'claude mcp add --transport http {SERVER_KEY} {mcp_url} --header "{header}"',
        "Cursor (~/.cursor/mcp.json)": json.dumps(cursor, indent=2),
        "Claude Desktop (claude_desktop_config.json)": json.dumps(claude_desktop, indent=2),
    }
