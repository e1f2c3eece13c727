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
OPENAI_IMAGES_PATH: Final = "/v1/images/generations"

# OAuth 2.1 (MCP authorization). The authorization, token, registration and revocation endpoints sit at
# the root, where clients of the 2025-03-26 revision look for them when they find no metadata.
PROTECTED_RESOURCE_METADATA_PATH: Final = "/.well-known/oauth-protected-resource"
# RFC 9728 §3.1: the metadata of the resource at /mcp, found by inserting the well-known prefix.
MCP_RESOURCE_METADATA_PATH: Final = f"{PROTECTED_RESOURCE_METADATA_PATH}{MCP_PATH}"
AUTHORIZATION_SERVER_METADATA_PATH: Final = "/.well-known/oauth-authorization-server"
OPENID_CONFIGURATION_PATH: Final = "/.well-known/openid-configuration"
AUTHORIZE_PATH: Final = "/authorize"
TOKEN_PATH: Final = "/token"  # noqa: S105 - a path, not a secret
REGISTER_PATH: Final = "/register"
REVOKE_PATH: Final = "/revoke"
CONSENT_PATH: Final = "/consent"
GRANTS_PATH: Final = "/oauth/grants"
GRANT_PATH: Final = "/oauth/grants/{grant_id}"

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
