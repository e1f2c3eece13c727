"""The paths the server answers on, one definition for the local app, the Lambda app and the CDK routes."""

from __future__ import annotations

from typing import Final

MCP_PATH: Final = "/mcp"
SSE_PATH: Final = "/sse"
MESSAGES_PATH: Final = "/messages/"
HEALTH_PATHS: Final = ("/healthz", "/health")
DISCOVERY_PATH: Final = "/"
