"""API Gateway events for handler tests, from the one builder the emulation and benchmarks use too."""

from __future__ import annotations

import json
from typing import Any

from imagegen.emulator.events import LocalLambdaContext, json_rpc, mcp_request_event, rest_api_event
from tests.integration.aws.stack import API_DOMAIN, AUTH_TOKEN


def rpc(method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    return json_rpc(method, params)


def tool_call(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return json_rpc("tools/call", {"name": name, "arguments": arguments})


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
    return mcp_request_event(
        payload, domain_name=domain, host=host, token=token, method=method, path=path, base64_body=base64_body
    )


def rest_api_v1(
    payload: dict[str, Any], *, token: str | None = AUTH_TOKEN, host: str = API_DOMAIN
) -> dict[str, Any]:
    return rest_api_event(payload, domain_name=host, token=token)


def LambdaContext() -> LocalLambdaContext:
    return LocalLambdaContext(function_name="imagegen-mcp-api", region="eu-west-1", timeout_seconds=30)


def result_of(response: dict[str, Any]) -> dict[str, Any]:
    """The JSON-RPC result of a handler response (raises with the body when it is an error)."""
    assert response["statusCode"] == 200, response
    body = json.loads(response["body"])
    assert "result" in body, body
    result: dict[str, Any] = body["result"]
    return result
