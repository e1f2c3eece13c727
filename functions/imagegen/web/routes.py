"""The HTTP surface: the paths the server answers on and the headers browsers may use, one definition
for the local app, the Lambda app, the emulated API Gateway and the CDK routes."""

from __future__ import annotations

from typing import Final

MCP_PATH: Final = "/mcp"
SSE_PATH: Final = "/sse"
MESSAGES_PATH: Final = "/messages/"
HEALTH_PATHS: Final = ("/healthz", "/health")
DISCOVERY_PATH: Final = "/"
FAVICON_PATH: Final = "/favicon.ico"

# What a browser-based MCP client sends and needs to read (Streamable HTTP, 2025-06-18 and later); the
# local app, the deployed API's CORS configuration and the emulated API Gateway all allow these.
CORS_ALLOW_HEADERS: Final = (
    "authorization",
    "content-type",
    "accept",
    "last-event-id",
    "mcp-protocol-version",
    "mcp-session-id",
)
CORS_EXPOSE_HEADERS: Final = ("mcp-protocol-version", "mcp-session-id", "www-authenticate")
