"""The mcp_api Lambda handler with real API Gateway events: warm reuse, both event versions, auth, hosts."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from pydantic import ValidationError

from imagegen.adapters.aws import schema
from imagegen.runtime.aws import AwsSettings
from tests.integration.aws.events import LambdaContext, http_api_v2, rest_api_v1, result_of, rpc, tool_call
from tests.integration.aws.stack import API_DOMAIN, AUTH_TOKEN, CUSTOM_DOMAIN, OTHER_TOKEN, Stack, json_lines


@pytest.fixture
def call(stack: Stack) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Invoke the API handler the way Lambda does, in this test's container."""

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        response: dict[str, Any] = stack.api.lambda_handler(event, LambdaContext())
        return response

    return invoke


Call = Callable[[dict[str, Any]], dict[str, Any]]


def test_five_warm_invocations_in_one_process_all_succeed(call: Call, stack: Stack) -> None:
    # Given one container (one imported handler) and real HTTP API v2 events
    events = [
        http_api_v2(rpc("tools/list")),
        http_api_v2(tool_call("generate_image", {"prompt": "a teapot"})),
        http_api_v2(tool_call("list_jobs", {})),
        http_api_v2(tool_call("list_models", {})),
        http_api_v2(rpc("tools/list")),
    ]

    # When they are handled one after another, as warm invocations are
    responses = [call(event) for event in events]

    # Then every one succeeds (a module-level Mangum app fails from the second on)
    assert [response["statusCode"] for response in responses] == [200] * 5
    tools = {tool["name"] for tool in result_of(responses[0])["tools"]}
    assert {"generate_image", "wait_for_completion", "list_jobs"} <= tools
    job_id = result_of(responses[1])["structuredContent"]["job_id"]
    listed = result_of(responses[2])["structuredContent"]
    assert [job["job_id"] for job in listed["jobs"]] == [job_id] and listed["total_count"] == 1


def test_a_rest_api_v1_event_is_served(call: Call, stack: Stack) -> None:
    response = call(rest_api_v1(tool_call("generate_image", {"prompt": "a lighthouse"})))

    generated = result_of(response)["structuredContent"]
    assert generated["status"] == "pending"
    assert stack.queued() == 1


def test_a_base64_encoded_body_is_decoded(call: Call, stack: Stack) -> None:
    response = call(http_api_v2(rpc("tools/list"), base64_body=True))

    assert result_of(response)["tools"]


@pytest.mark.parametrize("token", [None, "wrong-token-0123456789abcdef"])
def test_a_missing_or_wrong_token_gets_401_and_creates_nothing(
    call: Call, stack: Stack, token: str | None
) -> None:
    response = call(http_api_v2(tool_call("generate_image", {"prompt": "a fox"}), token=token))

    assert response["statusCode"] == 401
    assert response["headers"]["www-authenticate"].startswith("Bearer")
    assert stack.queued() == 0


def test_the_host_is_left_to_api_gateway(call: Call, stack: Stack) -> None:
    # API Gateway routes only its own names to the function, so the function does not check Host again
    # (see web.lambda_app); the emulated API Gateway refuses other names itself.
    response = call(http_api_v2(rpc("tools/list"), host=CUSTOM_DOMAIN, domain=CUSTOM_DOMAIN))

    assert result_of(response)["tools"]


@pytest.mark.parametrize(
    ("origin", "status"),
    [("https://evil.example.com", 403), (f"https://{API_DOMAIN}", 200), (f"https://{CUSTOM_DOMAIN}", 200)],
)
def test_browser_origins_other_than_the_apis_own_are_refused(
    call: Call, stack: Stack, origin: str, status: int
) -> None:
    event = http_api_v2(rpc("tools/list"))
    event["headers"]["origin"] = origin

    assert call(event)["statusCode"] == status


def test_a_request_with_no_time_left_is_answered_at_once(call: Call, stack: Stack) -> None:
    # Given a request API Gateway received 30 s ago (a long queue or a slow cold start)
    event = http_api_v2(tool_call("wait_for_completion", {"job_id": "3f2b9c1e-8a4d-4e6f-9b2a-1c3d5e7f9a0b"}))
    event["requestContext"]["timeEpoch"] -= 30_000

    # When the handler gets it
    response = call(event)

    # Then it answers straight away with an error the client can act on, rather than after the gateway
    # has given up
    assert response["statusCode"] == 503
    assert "ran out of time" in json.loads(response["body"])["error"]["message"]


def test_another_client_cannot_see_a_job(call: Call, stack: Stack) -> None:
    job_id = result_of(call(http_api_v2(tool_call("generate_image", {"prompt": "a secret"}))))[
        "structuredContent"
    ]["job_id"]

    response = call(http_api_v2(tool_call("get_job_status", {"job_id": job_id}), token=OTHER_TOKEN))

    result = result_of(response)
    assert result["isError"] is True
    assert "No job with id" in result["content"][0]["text"]


def test_wait_tools_are_capped_below_the_api_gateway_timeout(
    call: Call, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    tools = {tool["name"]: tool for tool in result_of(call(http_api_v2(rpc("tools/list"))))["tools"]}

    assert tools["wait_for_completion"]["inputSchema"]["properties"]["timeout_seconds"]["maximum"] == 24
    assert stack.api.runtime().jobs.wait_budget(120) == 24
    monkeypatch.setenv("WAIT_TIMEOUT_SECONDS", "30")
    with pytest.raises(ValidationError):
        AwsSettings()


def test_a_timed_out_wait_returns_a_still_running_result(call: Call, stack: Stack) -> None:
    job_id = result_of(call(http_api_v2(tool_call("generate_image", {"prompt": "a slow one"}))))[
        "structuredContent"
    ]["job_id"]

    waited = result_of(
        call(http_api_v2(tool_call("wait_for_completion", {"job_id": job_id, "timeout_seconds": 0.5})))
    )

    assert waited["isError"] is False
    outcome = waited["structuredContent"]
    assert outcome["timed_out"] is True and outcome["done"] is False
    assert job_id in outcome["next_step"]


def test_health_needs_no_token(call: Call, stack: Stack) -> None:
    response = call(http_api_v2(None, token=None, method="GET", path="/healthz"))
    alias = call(http_api_v2(None, token=None, method="GET", path="/health"))

    assert response["statusCode"] == 200
    assert json.loads(response["body"])["status"] == "ok"
    assert json.loads(alias["body"]) == json.loads(response["body"])


def test_discovery_page_lists_the_live_tools_with_the_api_url(call: Call, stack: Stack) -> None:
    response = call(http_api_v2(None, token=None, method="GET", path="/"))

    document = json.loads(response["body"])
    assert response["statusCode"] == 200
    assert "generate_image_and_wait" in {tool["name"] for tool in document["tools"]}
    assert document["endpoints"]["mcp"].endswith("/mcp")
    assert "sse" not in document["endpoints"]


def test_request_logs_carry_the_request_id_and_the_job_ids(
    call: Call, stack: Stack, handler_logs: io.StringIO
) -> None:
    event = http_api_v2(tool_call("generate_image", {"prompt": "a logged fox"}))

    job_id = result_of(call(event))["structuredContent"]["job_id"]
    waited = http_api_v2(tool_call("get_job_status", {"job_id": job_id}))
    call(waited)

    lines = json_lines(handler_logs.getvalue())
    handled = [line for line in lines if line.get("message") == "request handled"]
    assert handled[0]["correlation_id"] == event["requestContext"]["requestId"]
    assert handled[0]["tool"] == "generate_image" and handled[0]["job_ids"] == [job_id]
    assert handled[1]["job_id"] == job_id and handled[1]["status"] == 200
    assert AUTH_TOKEN not in handler_logs.getvalue()


def test_an_http_api_with_a_named_stage_routes_past_the_stage_prefix(call: Call, stack: Stack) -> None:
    event = http_api_v2(rpc("tools/list"), path="/prod/mcp")
    event["requestContext"]["stage"] = "prod"

    assert result_of(call(event))["tools"]


def test_a_rotated_token_applies_once_the_secret_cache_expires(call: Call, stack: Stack) -> None:
    # Given a warm container that cached the secret
    assert call(http_api_v2(rpc("tools/list")))["statusCode"] == 200
    secrets = boto3.client("secretsmanager")
    arn = os.environ[schema.ENV_SECRET_ARN]
    rotated = "rotated-token-0123456789abcdef"
    secrets.put_secret_value(SecretId=arn, SecretString=json.dumps({schema.SECRET_AUTH_TOKEN: rotated}))

    # When the cache's max age passes (Powertools parameters, 300 s by default)
    parameters.clear_caches()

    # Then the new token works and the old one no longer does, without a new container
    assert call(http_api_v2(rpc("tools/list"), token=rotated))["statusCode"] == 200
    assert call(http_api_v2(rpc("tools/list")))["statusCode"] == 401


def test_results_name_the_provider_the_current_secret_selects(call: Call, stack: Stack) -> None:
    # Given a warm container serving with the Cloudflare token in the secret
    before = result_of(call(http_api_v2(tool_call("list_models", {}))))["structuredContent"]["provider"]
    secrets = boto3.client("secretsmanager")
    arn = os.environ[schema.ENV_SECRET_ARN]
    current = json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"])

    # When the operator removes the Cloudflare token and the secret cache expires
    current[schema.SECRET_CLOUDFLARE_API_TOKEN] = ""
    secrets.put_secret_value(SecretId=arn, SecretString=json.dumps(current))
    parameters.clear_caches()
    after = result_of(call(http_api_v2(tool_call("list_models", {}))))["structuredContent"]["provider"]

    # Then the same container reports the provider that will really run the jobs
    assert (before, after) == ("workers-ai", "preview")
