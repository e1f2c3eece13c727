"""Lambda event shapes: API Gateway HTTP API (payload format 2.0) requests and SQS batches.

The one place these events are built: the emulation (`imagegen serve --backend aws`), the handler tests
and the benchmarks all use these builders, so they cannot drift apart. The shapes follow the AWS Lambda
developer guide: lower-case header names, duplicate headers joined with commas, cookies in their own
list, duplicate query parameters joined with commas, and a body that is base64-encoded when it is not
UTF-8 text.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

LOCAL_ACCOUNT_ID = "000000000000"
LOCAL_API_ID = "local"


@dataclass
class LocalLambdaContext:
    """The Lambda context object, for calling a handler in this process (tests, step-through debugging)."""

    function_name: str
    memory_limit_in_mb: int = 1024
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    region: str = "us-east-1"
    timeout_seconds: float = 30.0
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{LOCAL_ACCOUNT_ID}:function:{self.function_name}"

    @property
    def function_version(self) -> str:
        return "$LATEST"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


HeaderItems = Mapping[str, str] | Iterable[tuple[str, str]]


def http_api_event(
    *,
    method: str,
    path: str,
    headers: HeaderItems,
    body: bytes | str | None = b"",
    query_string: str = "",
    domain_name: str,
    source_ip: str = "127.0.0.1",
    stage: str = "$default",
    api_id: str = LOCAL_API_ID,
    received_at: float | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API payload 2.0 event, as the `$default` route delivers it.

    `received_at` (epoch seconds) is when the gateway received the request: the handler's deadline is
    counted from it.
    """
    moment = datetime.fromtimestamp(time.time() if received_at is None else received_at, UTC)
    merged = _merge_headers(headers)
    cookies = [part.strip() for part in merged.pop("cookie", "").split(";") if part.strip()]
    raw = body.encode() if isinstance(body, str) else (body or b"")
    text = _as_text(raw)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query_string,
        "headers": merged,
        "requestContext": {
            "accountId": LOCAL_ACCOUNT_ID,
            "apiId": api_id,
            "domainName": domain_name,
            "domainPrefix": domain_name.split(".")[0],
            "http": {
                "method": method.upper(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": merged.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": stage,
            "time": moment.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(moment.timestamp() * 1000),
        },
        "isBase64Encoded": text is None,
    }
    if raw:
        event["body"] = text if text is not None else base64.b64encode(raw).decode()
    if cookies:
        event["cookies"] = cookies
    if query_string:
        params: dict[str, str] = {}
        for pair in query_string.split("&"):
            name, _, value = pair.partition("=")
            params[name] = f"{params[name]},{value}" if name in params else value
        event["queryStringParameters"] = params
    return event


def _merge_headers(headers: HeaderItems) -> dict[str, str]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    merged: dict[str, str] = {}
    for name, value in items:
        key = name.lower()
        if key == "cookie" and key in merged:
            merged[key] = f"{merged[key]}; {value}"
        else:
            merged[key] = f"{merged[key]},{value}" if key in merged else value
    return merged


def _as_text(body: bytes) -> str | None:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


MCP_HEADERS = {
    "accept": "application/json, text/event-stream",
    "content-type": "application/json",
    "mcp-protocol-version": "2025-06-18",
}


def json_rpc(method: str, params: Mapping[str, Any] | None = None, request_id: int = 1) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": dict(params or {})}


def mcp_request_event(
    payload: Mapping[str, Any] | None,
    *,
    domain_name: str,
    token: str | None = None,
    host: str | None = None,
    method: str = "POST",
    path: str = "/mcp",
    extra_headers: Mapping[str, str] | None = None,
    base64_body: bool = False,
) -> dict[str, Any]:
    """A deployed client's MCP request: what API Gateway hands the API function for one JSON-RPC call."""
    headers = {
        **MCP_HEADERS,
        "host": host or domain_name,
        "user-agent": "mcp-client/1.0",
        "x-amzn-trace-id": "Root=1-5e6722a7-cc56xmpl46db7ae02d4da47e",
        "x-forwarded-for": "205.255.255.176",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
        **(extra_headers or {}),
    }
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    body = json.dumps(payload) if payload is not None else None
    event = http_api_event(
        method=method,
        path=path,
        headers=headers,
        body=body,
        domain_name=domain_name,
        source_ip="205.255.255.176",
        api_id=domain_name.split(".")[0],
    )
    if base64_body and body:
        event["body"] = base64.b64encode(body.encode()).decode()
        event["isBase64Encoded"] = True
    return event


def rest_api_event(
    payload: Mapping[str, Any],
    *,
    domain_name: str,
    token: str | None = None,
    path: str = "/mcp",
    stage: str = "prod",
) -> dict[str, Any]:
    """An API Gateway REST API (payload 1.0) proxy event for one JSON-RPC call, for handlers that accept
    both payload versions."""
    headers = {**MCP_HEADERS, "Host": domain_name, "X-Forwarded-Proto": "https", "X-Forwarded-Port": "443"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    now = datetime.now(UTC)
    return {
        "resource": path,
        "path": path,
        "httpMethod": "POST",
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "accountId": LOCAL_ACCOUNT_ID,
            "apiId": domain_name.split(".")[0],
            "domainName": domain_name,
            "domainPrefix": domain_name.split(".")[0],
            "extendedRequestId": "JJbxmHc7IAMFfFw=",
            "httpMethod": "POST",
            "identity": {"sourceIp": "205.255.255.176", "userAgent": "mcp-client/1.0"},
            "path": f"/{stage}{path}",
            "protocol": "HTTP/1.1",
            "requestId": str(uuid.uuid4()),
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "resourceId": "2gxmpl",
            "resourcePath": path,
            "stage": stage,
        },
        "body": json.dumps(payload),
        "isBase64Encoded": False,
    }


def sqs_event(messages: Sequence[Mapping[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event the SQS event source mapping hands to Lambda, from `ReceiveMessage` results.

    The messages must have been received with `MessageSystemAttributeNames=["All"]`, which carries
    ApproximateReceiveCount: the worker's last-delivery decision depends on it.
    """
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": dict(message.get("Attributes", {})),
                "messageAttributes": {
                    name: _lambda_message_attribute(value)
                    for name, value in message.get("MessageAttributes", {}).items()
                },
                "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),  # noqa: S324 - SQS's own checksum
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for message in messages
        ]
    }


def _lambda_message_attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    # Lambda spells the attribute fields in camelCase, ReceiveMessage in PascalCase.
    return {
        "stringValue": value.get("StringValue"),
        "binaryValue": value.get("BinaryValue"),
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": value.get("DataType", "String"),
    }
