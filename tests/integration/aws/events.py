"""Real API Gateway event shapes (as in the AWS Lambda developer guide samples), for handler tests."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from tests.integration.aws.stack import API_DOMAIN, AUTH_TOKEN

MCP_HEADERS = {
    "accept": "application/json, text/event-stream",
    "content-type": "application/json",
    "mcp-protocol-version": "2025-06-18",
}


def rpc(method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}


def tool_call(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return rpc("tools/call", {"name": name, "arguments": arguments})


def http_api_v2(
    payload: dict[str, Any] | None,
    *,
    token: str | None = AUTH_TOKEN,
    host: str = API_DOMAIN,
    domain: str = API_DOMAIN,
    method: str = "POST",
    path: str = "/mcp",
    base64_body: bool = False,
) -> dict[str, Any]:
    headers = {
        **MCP_HEADERS,
        "host": host,
        "user-agent": "mcp-client/1.0",
        "x-amzn-trace-id": "Root=1-5e6722a7-cc56xmpl46db7ae02d4da47e",
        "x-forwarded-for": "205.255.255.176",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    body = json.dumps(payload) if payload is not None else None
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": domain.split(".")[0],
            "domainName": domain,
            "domainPrefix": domain.split(".")[0],
            "http": {
                "method": method,
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
        "body": base64.b64encode(body.encode()).decode() if body and base64_body else body,
        "isBase64Encoded": base64_body,
    }


def rest_api_v1(
    payload: dict[str, Any], *, token: str | None = AUTH_TOKEN, host: str = API_DOMAIN
) -> dict[str, Any]:
    headers = {**MCP_HEADERS, "Host": host, "X-Forwarded-Proto": "https", "X-Forwarded-Port": "443"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return {
        "resource": "/mcp",
        "path": "/mcp",
        "httpMethod": "POST",
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": host.split(".")[0],
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "extendedRequestId": "JJbxmHc7IAMFfFw=",
            "httpMethod": "POST",
            "identity": {"sourceIp": "205.255.255.176", "userAgent": "mcp-client/1.0"},
            "path": "/prod/mcp",
            "protocol": "HTTP/1.1",
            "requestId": str(uuid.uuid4()),
            "requestTime": "25/Nov/2026:10:00:00 +0000",
            "requestTimeEpoch": 1795687200000,
            "resourceId": "2gxmpl",
            "resourcePath": "/mcp",
            "stage": "prod",
        },
        "body": json.dumps(payload),
        "isBase64Encoded": False,
    }


class LambdaContext:
    """The context attributes Powertools reads; Lambda passes an object like this."""

    function_name = "imagegen-mcp-api"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:imagegen-mcp-api"
    function_version = "$LATEST"
    log_group_name = "/aws/lambda/imagegen-mcp-api"
    log_stream_name = "2026/11/25/[$LATEST]abc"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def result_of(response: dict[str, Any]) -> dict[str, Any]:
    """The JSON-RPC result of a handler response (raises with the body when it is an error)."""
    assert response["statusCode"] == 200, response
    body = json.loads(response["body"])
    assert "result" in body, body
    result: dict[str, Any] = body["result"]
    return result
