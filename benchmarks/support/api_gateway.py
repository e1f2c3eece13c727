"""An API Gateway HTTP API (payload v2.0) event carrying one MCP JSON-RPC request, as Lambda receives it.

The shape follows the AWS Lambda developer guide sample (and tests/integration/aws/events.py, which
cannot be imported from here because it depends on that suite's conftest).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

API_DOMAIN = "abc123.execute-api.eu-west-1.amazonaws.com"
PROTOCOL_VERSION = "2025-06-18"


def http_api_v2(method: str, token: str, *, domain: str = API_DOMAIN, path: str = "/mcp") -> dict[str, Any]:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": {}})
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "accept": "application/json, text/event-stream",
            "authorization": f"Bearer {token}",
            "content-type": "application/json",
            "content-length": str(len(body)),
            "host": domain,
            "mcp-protocol-version": PROTOCOL_VERSION,
            "user-agent": "mcp-client/1.0",
            "x-forwarded-for": "205.255.255.176",
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": domain.split(".")[0],
            "domainName": domain,
            "domainPrefix": domain.split(".")[0],
            "http": {
                "method": "POST",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "205.255.255.176",
                "userAgent": "mcp-client/1.0",
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": "25/Nov/2026:10:00:00 +0000",
            "timeEpoch": 1795687200000,
        },
        "body": body,
        "isBase64Encoded": False,
    }
