"""The whole AWS path on moto, one step at a time: API Gateway event -> mcp_api handler -> DynamoDB + SQS
-> image_worker handler -> Workers AI (respx) -> R2 (moto) -> wait_for_completion through the API again."""

from __future__ import annotations

import io
import json

import httpx
import respx

from tests.integration.aws.events import LambdaContext, http_api_v2, result_of, tool_call
from tests.integration.aws.stack import (
    BUCKET,
    PUBLIC_BASE_URL,
    WORKERS_AI_URL,
    Stack,
    flux_answer,
    jpeg_bytes,
    json_lines,
)
from tests.support.aws import GENERATIONS_TABLE, JOBS_TABLE


def test_a_generated_image_travels_from_api_to_r2_and_back(stack: Stack, handler_logs: io.StringIO) -> None:
    # Given a client calling generate_image through API Gateway with its bearer token
    event = http_api_v2(tool_call("generate_image", {"prompt": "a red fox in fresh snow"}))

    # When the API handler runs
    response = stack.api.lambda_handler(event, LambdaContext())

    # Then it answers at once with a pending job
    generated = result_of(response)["structuredContent"]
    job_id = generated["job_id"]
    assert generated["status"] == "pending"

    # And the job row exists in DynamoDB
    row = stack.dynamodb.get_item(TableName=JOBS_TABLE, Key={"job_id": {"S": job_id}})["Item"]
    assert row["status"]["S"] == "pending"
    assert row["owner"]["S"] == "default"

    # And one message for it is on the queue
    messages = stack.receive()
    assert [json.loads(message["Body"]) for message in messages] == [{"job_id": job_id}]

    # When that message is handed to the worker handler as an SQS event, and Workers AI answers
    image = jpeg_bytes()
    with respx.mock(assert_all_called=True) as cloudflare:
        route = cloudflare.post(WORKERS_AI_URL).mock(
            return_value=httpx.Response(200, json=flux_answer(image))
        )
        result = stack.event_source().deliver(messages)

    # Then no message is reported failed, and the worker called Workers AI once with the prompt
    assert result == {"batchItemFailures": []}
    assert route.call_count == 1
    assert json.loads(route.calls[0].request.content)["prompt"] == "a red fox in fresh snow"
    assert route.calls[0].request.headers["authorization"] == "Bearer cf-token"

    # And the image is in the R2 bucket under the job's key with the detected content type
    stored = stack.r2.get_object(Bucket=BUCKET, Key=f"images/{job_id}.jpg")
    assert stored["ContentType"] == "image/jpeg"
    assert stored["Body"].read() == image

    # And the job is completed and has a generation record
    row = stack.dynamodb.get_item(TableName=JOBS_TABLE, Key={"job_id": {"S": job_id}})["Item"]
    assert row["status"]["S"] == "completed"
    generation = stack.dynamodb.get_item(TableName=GENERATIONS_TABLE, Key={"job_id": {"S": job_id}})
    assert "Item" in generation

    # And the queue is empty: the successful message was deleted
    assert stack.queued() == 0

    # And the worker's log lines for the job carry the API request's id as their correlation id
    processed = [
        line for line in json_lines(handler_logs.getvalue()) if line.get("message") == "job processed"
    ]
    assert [(line["job_id"], line["correlation_id"]) for line in processed] == [
        (job_id, event["requestContext"]["requestId"])
    ]

    # When the client waits for completion through the API
    waited = result_of(
        stack.api.lambda_handler(
            http_api_v2(tool_call("wait_for_completion", {"job_id": job_id})), LambdaContext()
        )
    )

    # Then it gets the public R2 URL at once
    assert waited["isError"] is False
    outcome = waited["structuredContent"]
    job = outcome["jobs"][0]
    assert outcome["done"] is True and job["status"] == "completed"
    assert job["image_url"] == f"{PUBLIC_BASE_URL}/images/{job_id}.jpg"
    assert outcome["image_url"] == job["image_url"]
    assert job["provider"] == "workers-ai"
    assert waited["structuredContent"]["elapsed_seconds"] < 1
    assert stack.worker.runtime().worker().provider_name == "workers-ai"
