"""The obvious way to put an MCP server on Lambda, as a cold-start baseline for `mcp_api.handler`.

Everything is built at import time: boto3 clients, one `MCPServer` with the same tool names as imagegen,
its Streamable HTTP app and one module-level `Mangum` around it. It answers its first invocation (what a
cold start measures) and fails on the next warm one, because Mangum runs the ASGI lifespan on every
invocation and mcp 2.3.0's session manager can run only once (DESIGN.md, "two hazards"). That failure is
part of why the real handler is built differently; the cold-start figure compares only the first call.

It is a baseline, not a product: no validation, no catalog, no error mapping, no logging or tracing.
"""

from __future__ import annotations

import hmac
import json
import os
import time
import uuid
from typing import Any

import boto3
from mangum import Mangum
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp, Receive, Scope, Send

JOBS_TABLE = os.environ["JOBS_TABLE_NAME"]
GENERATIONS_TABLE = os.environ["GENERATIONS_TABLE_NAME"]
QUEUE_URL = os.environ["JOBS_QUEUE_URL"]
AUTH_TOKEN = os.environ["AUTH_TOKEN"]
ALLOWED_HOSTS = [host for host in os.environ.get("ALLOWED_HOSTS", "").split(",") if host]

dynamodb = boto3.client("dynamodb")
sqs = boto3.client("sqs")
server = MCPServer("imagegen-naive")


def _job(job_id: str) -> dict[str, Any]:
    item = dynamodb.get_item(TableName=JOBS_TABLE, Key={"job_id": {"S": job_id}}).get("Item", {})
    return {name: value.get("S") for name, value in item.items()}


@server.tool()
def generate_image(prompt: str, model: str = "flux-schnell", count: int = 1) -> dict[str, Any]:
    """Queue image generation; returns job ids."""
    ids = [str(uuid.uuid4()) for _ in range(count)]
    for job_id in ids:
        dynamodb.put_item(
            TableName=JOBS_TABLE,
            Item={
                "job_id": {"S": job_id},
                "prompt": {"S": prompt},
                "model": {"S": model},
                "status": {"S": "pending"},
            },
        )
        sqs.send_message(QueueUrl=QUEUE_URL, MessageBody=json.dumps({"job_id": job_id}))
    return {"job_ids": ids, "status": "pending"}


@server.tool()
def get_job_status(job_id: str) -> dict[str, Any]:
    """Status of one job."""
    return _job(job_id)


@server.tool()
def wait_for_completion(job_id: str, timeout_seconds: float = 25) -> dict[str, Any]:
    """Poll the job until it finishes or the timeout passes."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        job = _job(job_id)
        if job.get("status") in ("completed", "failed") or time.monotonic() >= deadline:
            return job
        time.sleep(1)


@server.tool()
def generate_image_and_wait(prompt: str, model: str = "flux-schnell") -> dict[str, Any]:
    """Generate and wait."""
    return wait_for_completion(generate_image(prompt, model)["job_ids"][0])


@server.tool()
def list_jobs(limit: int = 10) -> dict[str, Any]:
    """Recent jobs."""
    items = dynamodb.scan(TableName=JOBS_TABLE, Limit=limit).get("Items", [])
    return {"jobs": [{name: value.get("S") for name, value in item.items()} for item in items]}


@server.tool()
def list_generations(limit: int = 10) -> dict[str, Any]:
    """Recent images."""
    items = dynamodb.scan(TableName=GENERATIONS_TABLE, Limit=limit).get("Items", [])
    return {"generations": [{name: value.get("S") for name, value in item.items()} for item in items]}


@server.tool()
def list_models() -> dict[str, Any]:
    """Available models."""
    return {"models": ["flux-schnell", "sdxl-lightning", "sdxl-base"]}


@server.tool()
def cancel_job(job_id: str) -> dict[str, Any]:
    """Cancel a job."""
    dynamodb.update_item(
        TableName=JOBS_TABLE,
        Key={"job_id": {"S": job_id}},
        UpdateExpression="SET #s = :c",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":c": {"S": "cancelled"}},
    )
    return _job(job_id)


@server.tool()
def delete_generation(job_id: str) -> dict[str, Any]:
    """Delete an image record."""
    dynamodb.delete_item(TableName=GENERATIONS_TABLE, Key={"job_id": {"S": job_id}})
    return {"job_id": job_id, "deleted": True}


@server.tool()
def get_usage() -> dict[str, Any]:
    """Count jobs."""
    return {"jobs": dynamodb.scan(TableName=JOBS_TABLE, Select="COUNT").get("Count", 0)}


class BearerCheck:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            given = headers.get(b"authorization", b"").removeprefix(b"Bearer ")
            if not hmac.compare_digest(given, AUTH_TOKEN.encode()):
                await send({"type": "http.response.start", "status": 401, "headers": []})
                await send({"type": "http.response.body", "body": b""})
                return
        await self.app(scope, receive, send)


app = server.streamable_http_app(
    stateless_http=True,
    json_response=True,
    transport_security=TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=ALLOWED_HOSTS,
        allowed_origins=[f"https://{host}" for host in ALLOWED_HOSTS],
    ),
)
handler = Mangum(BearerCheck(app), lifespan="auto")
