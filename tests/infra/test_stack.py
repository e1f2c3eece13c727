"""The synthesized template has every resource and setting the design asks for."""

from __future__ import annotations

import ast
import json
from typing import Any

import pytest
from infra.config import MAX_CALLS_IN_FLIGHT
from infra.constructs.secrets import SECRET_KEYS
from infra.outputs import Outputs

from imagegen.adapters.aws import schema
from imagegen.domain import catalog
from imagegen.runtime import deployment
from imagegen.runtime.aws_settings import AwsSettings
from imagegen.web.oauth.metadata import authorization_server_metadata, protected_resource_metadata
from imagegen.web.oauth.urls import OAuthUrls
from tests.infra.conftest import REPO_ROOT, Synth

COMMON_ENV = {
    schema.ENV_JOBS_TABLE,
    schema.ENV_GENERATIONS_TABLE,
    schema.ENV_QUEUE_URL,
    schema.ENV_R2_BUCKET,
    schema.ENV_R2_PUBLIC_BASE_URL,
    schema.ENV_R2_ACCOUNT_ID,
    schema.ENV_R2_JURISDICTION,
    schema.ENV_SECRET_ARN,
}


def _function(synth: Synth, handler: str) -> dict[str, Any]:
    matches: list[dict[str, Any]] = [
        resource["Properties"]
        for resource in synth.resources("AWS::Lambda::Function").values()
        if resource["Properties"]["Handler"] == handler
    ]
    assert len(matches) == 1
    return matches[0]


def _api_function(synth: Synth) -> dict[str, Any]:
    return _function(synth, deployment.API_HANDLER)


def _worker_function(synth: Synth) -> dict[str, Any]:
    return _function(synth, deployment.WORKER_HANDLER)


def _queue(synth: Synth) -> dict[str, Any]:
    return synth.properties(synth.stack.jobs.queue)


def _ref(synth: Synth, construct: Any) -> dict[str, str]:
    return {"Ref": synth.logical_id(construct)}


# ---------------------------------------------------------------------------------------------- functions


def test_given_default_context_when_synthesized_then_there_are_exactly_two_functions(
    default_synth: Synth,
) -> None:
    assert len(default_synth.resources("AWS::Lambda::Function")) == 2


@pytest.mark.parametrize("handler", [deployment.API_HANDLER, deployment.WORKER_HANDLER])
def test_given_each_function_then_it_runs_python_3_13_on_arm64_with_the_shared_layer(
    default_synth: Synth, handler: str
) -> None:
    function = _function(default_synth, handler)

    assert function["Runtime"] == "python3.13"
    assert function["Architectures"] == ["arm64"]
    assert function["Layers"] == [_ref(default_synth, default_synth.stack.shared.layer)]
    assert function["LoggingConfig"]["LogFormat"] == "JSON"
    assert function["TracingConfig"] == {"Mode": "Active"}


def test_given_the_api_function_then_it_stops_with_api_gateway_and_no_setting_can_outlast_it(
    default_synth: Synth,
) -> None:
    function = _api_function(default_synth)

    assert function["Timeout"] == deployment.API_GATEWAY_TIMEOUT_SECONDS == 30
    assert function["MemorySize"] >= 512
    # Wait budgets come from each request's deadline, never from a separate setting.
    assert schema.ENV_WAIT_TIMEOUT not in function["Environment"]["Variables"]


def test_given_the_worker_function_then_its_timeout_covers_the_slowest_model_with_retries(
    default_synth: Synth,
) -> None:
    function = _worker_function(default_synth)

    slowest = catalog.slowest_latency_ceiling_seconds()
    assert slowest >= 113  # FLUX.2 [dev] has been reported at about 113 s for one image
    assert function["Timeout"] == deployment.worker_timeout_seconds()
    assert (
        function["Timeout"]
        >= slowest + deployment.PROVIDER_RETRY_BUDGET_SECONDS + deployment.HANDBACK_MARGIN_SECONDS
    )
    assert function["MemorySize"] >= 512


@pytest.mark.parametrize("handler", [deployment.API_HANDLER, deployment.WORKER_HANDLER])
def test_given_each_function_then_r2_checksums_are_off_whatever_botocore_the_runtime_has(
    default_synth: Synth, handler: str
) -> None:
    variables = _function(default_synth, handler)["Environment"]["Variables"]

    assert variables["AWS_REQUEST_CHECKSUM_CALCULATION"] == "when_required"
    assert variables["AWS_RESPONSE_CHECKSUM_VALIDATION"] == "when_required"


@pytest.mark.parametrize("handler", [deployment.API_HANDLER, deployment.WORKER_HANDLER])
def test_given_each_function_then_it_gets_every_schema_variable_with_resource_references(
    default_synth: Synth, handler: str
) -> None:
    variables = _function(default_synth, handler)["Environment"]["Variables"]
    stack = default_synth.stack

    assert set(variables) >= COMMON_ENV
    assert variables[schema.ENV_JOBS_TABLE] == _ref(default_synth, stack.data.jobs)
    assert variables[schema.ENV_GENERATIONS_TABLE] == _ref(default_synth, stack.data.generations)
    assert variables[schema.ENV_QUEUE_URL] == _ref(default_synth, stack.jobs.queue)
    assert variables[schema.ENV_SECRET_ARN] == _ref(default_synth, stack.credentials.secret)
    assert variables[schema.ENV_R2_BUCKET] == "imagegen-images"
    assert variables[schema.ENV_R2_JURISDICTION] == "default"


def test_given_the_oauth_table_then_only_the_api_function_is_told_of_it(default_synth: Synth) -> None:
    api = _api_function(default_synth)["Environment"]["Variables"]
    worker = _worker_function(default_synth)["Environment"]["Variables"]

    assert api[schema.ENV_OAUTH_TABLE] == _ref(default_synth, default_synth.stack.data.oauth)
    assert schema.ENV_OAUTH_TABLE not in worker


def test_given_the_api_function_then_allowed_hosts_name_the_execute_api_host(default_synth: Synth) -> None:
    variables = _api_function(default_synth)["Environment"]["Variables"]

    joined = variables[schema.ENV_ALLOWED_HOSTS]["Fn::Join"]
    assert joined[1][0] == _ref(default_synth, default_synth.stack.api.http_api)
    assert ".execute-api." in joined[1]


def test_given_the_worker_then_it_learns_the_queue_redrive_count(default_synth: Synth) -> None:
    variables = _worker_function(default_synth)["Environment"]["Variables"]
    redrive = _queue(default_synth)["RedrivePolicy"]

    assert int(variables[schema.ENV_MAX_RECEIVE_COUNT]) == redrive["maxReceiveCount"]


def test_given_the_handlers_then_each_names_a_function_defined_in_its_module() -> None:
    for dotted in (deployment.API_HANDLER, deployment.WORKER_HANDLER):
        module, attribute = dotted.rsplit(".", 1)
        source = REPO_ROOT / "functions" / (module.replace(".", "/") + ".py")
        if not source.exists():
            pytest.skip(f"{source.relative_to(REPO_ROOT)} is not written yet")
        tree = ast.parse(source.read_text())
        defined = {
            node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        defined |= {
            target.id
            for node in tree.body
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        assert attribute in defined, f"{dotted}: {source.name} defines no {attribute!r}"


def test_given_the_code_asset_then_tests_caches_and_metadata_are_left_out(default_synth: Synth) -> None:
    function_code = _api_function(default_synth)["Code"]["S3Key"].removesuffix(".zip")
    staged = default_synth.outdir / f"asset.{function_code}"

    assert (staged / "imagegen" / "adapters" / "aws" / "schema.py").is_file()
    for local_only in ("cli", "emulator", "fakes"):
        assert not (staged / "imagegen" / local_only).exists(), local_only
    assert not list(staged.rglob("__pycache__"))
    assert not list(staged.rglob("*.pyc"))
    assert not list(staged.glob("*.egg-info"))


@pytest.mark.parametrize("handler", [deployment.API_HANDLER, deployment.WORKER_HANDLER])
def test_given_each_function_then_it_logs_to_its_own_group_with_the_configured_retention(
    default_synth: Synth, handler: str
) -> None:
    log_group_ref = _function(default_synth, handler)["LoggingConfig"]["LogGroup"]
    log_group = default_synth.json["Resources"][log_group_ref["Ref"]]

    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert log_group["Properties"]["RetentionInDays"] == 30


def test_given_any_log_group_then_it_has_a_retention(default_synth: Synth, full_synth: Synth) -> None:
    for synth, days in ((default_synth, 30), (full_synth, 90)):
        groups = synth.resources("AWS::Logs::LogGroup").values()
        assert len(groups) == 3
        assert {group["Properties"]["RetentionInDays"] for group in groups} == {days}


# ------------------------------------------------------------------------------------ queue and worker


def test_given_the_job_queue_then_visibility_covers_six_worker_timeouts(default_synth: Synth) -> None:
    visibility = _queue(default_synth)["VisibilityTimeout"]

    assert deployment.VISIBILITY_TIMEOUT_FACTOR >= 6
    assert visibility >= 6 * _worker_function(default_synth)["Timeout"]


def test_given_the_job_queue_then_poison_messages_go_to_the_dead_letter_queue_after_five(
    default_synth: Synth,
) -> None:
    redrive = _queue(default_synth)["RedrivePolicy"]
    dead_letter_id = default_synth.logical_id(default_synth.stack.jobs.dead_letter_queue)

    assert redrive["maxReceiveCount"] == schema.DEFAULT_MAX_RECEIVE_COUNT == 5
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": [dead_letter_id, "Arn"]}


def test_given_both_queues_then_they_are_encrypted_and_refuse_plain_http(default_synth: Synth) -> None:
    queues = default_synth.resources("AWS::SQS::Queue")
    policies = default_synth.resources("AWS::SQS::QueuePolicy").values()

    assert len(queues) == 2
    assert all(queue["Properties"]["SqsManagedSseEnabled"] is True for queue in queues.values())
    protected: set[str] = set()
    for policy in policies:
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Deny" and statement["Condition"] == {
                "Bool": {"aws:SecureTransport": "false"}
            }:
                protected.update(queue["Ref"] for queue in policy["Properties"]["Queues"])
    assert protected == set(queues)


def test_given_the_dead_letter_queue_then_it_keeps_messages_for_14_days(default_synth: Synth) -> None:
    dead_letters = default_synth.properties(default_synth.stack.jobs.dead_letter_queue)

    assert dead_letters["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_given_the_worker_then_sqs_feeds_it_with_partial_batch_responses(default_synth: Synth) -> None:
    mappings = list(default_synth.resources("AWS::Lambda::EventSourceMapping").values())

    assert len(mappings) == 1
    mapping = mappings[0]["Properties"]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["EventSourceArn"] == {
        "Fn::GetAtt": [default_synth.logical_id(default_synth.stack.jobs.queue), "Arn"]
    }
    assert 1 <= mapping["BatchSize"] <= 10
    assert mapping["MaximumBatchingWindowInSeconds"] == 0


def test_given_the_worker_then_workers_ai_never_sees_more_than_12_calls_at_once(
    default_synth: Synth, full_synth: Synth
) -> None:
    for synth in (default_synth, full_synth):
        mapping = next(iter(synth.resources("AWS::Lambda::EventSourceMapping").values()))["Properties"]
        reserved = _worker_function(synth).get("ReservedConcurrentExecutions")
        poller = mapping["ScalingConfig"]["MaximumConcurrency"]

        assert poller * mapping["BatchSize"] <= MAX_CALLS_IN_FLIGHT
        if reserved is not None:
            assert poller <= reserved  # a throttled poller would walk messages to the DLQ


def test_given_default_context_then_nothing_reserves_concurrency(default_synth: Synth) -> None:
    # A reservation fails the first deploy on accounts whose whole concurrency quota is 10.
    for function in default_synth.resources("AWS::Lambda::Function").values():
        assert "ReservedConcurrentExecutions" not in function["Properties"]
    mapping = next(iter(default_synth.resources("AWS::Lambda::EventSourceMapping").values()))["Properties"]
    assert mapping["ScalingConfig"]["MaximumConcurrency"] >= 2


def test_given_an_opt_in_reservation_then_the_worker_reserves_it(full_synth: Synth) -> None:
    assert _worker_function(full_synth)["ReservedConcurrentExecutions"] == 2


# ----------------------------------------------------------------------------------------------- tables


@pytest.mark.parametrize(
    ("table_name", "partition_key", "indexes"),
    [
        ("jobs", schema.PARTITION_KEY, schema.JOBS_INDEXES),
        ("generations", schema.PARTITION_KEY, schema.GENERATIONS_INDEXES),
        ("oauth", schema.OAUTH_PARTITION_KEY, schema.OAUTH_INDEXES),
    ],
)
def test_given_each_table_then_its_layout_is_the_one_in_schema(
    default_synth: Synth, table_name: str, partition_key: str, indexes: dict[str, tuple[str, str]]
) -> None:
    table = default_synth.properties(getattr(default_synth.stack.data, table_name))

    assert table["KeySchema"] == [{"AttributeName": partition_key, "KeyType": "HASH"}]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["TimeToLiveSpecification"] == {"AttributeName": schema.TTL_ATTRIBUTE, "Enabled": True}
    actual = {
        index["IndexName"]: (
            index["KeySchema"],
            index["Projection"],
        )
        for index in table["GlobalSecondaryIndexes"]
    }
    expected = {
        name: (
            [
                {"AttributeName": partition, "KeyType": "HASH"},
                {"AttributeName": sort, "KeyType": "RANGE"},
            ],
            {"ProjectionType": schema.GSI_PROJECTION},
        )
        for name, (partition, sort) in indexes.items()
    }
    assert actual == expected
    assert all(attribute["AttributeType"] == "S" for attribute in table["AttributeDefinitions"])


def test_given_retain_data_then_tables_survive_stack_deletion(
    default_synth: Synth, full_synth: Synth
) -> None:
    for table in default_synth.resources("AWS::DynamoDB::Table").values():
        assert table["DeletionPolicy"] == "Retain"
        assert table["Properties"]["DeletionProtectionEnabled"] is True
    for table in full_synth.resources("AWS::DynamoDB::Table").values():
        assert table["DeletionPolicy"] == "Delete"
        assert table["Properties"]["DeletionProtectionEnabled"] is False


# -------------------------------------------------------------------------------------------------- API


def _routes(synth: Synth) -> set[str]:
    return {route["Properties"]["RouteKey"] for route in synth.resources("AWS::ApiGatewayV2::Route").values()}


def test_given_the_http_api_then_it_routes_exactly_the_mcp_health_oauth_and_public_pages(
    default_synth: Synth,
) -> None:
    apis = default_synth.resources("AWS::ApiGatewayV2::Api")

    assert [api["Properties"]["ProtocolType"] for api in apis.values()] == ["HTTP"]
    assert _routes(default_synth) == {
        "POST /mcp",
        "GET /mcp",
        "DELETE /mcp",
        "GET /",
        "GET /favicon.ico",
        "POST /v1/images/generations",
        "GET /health",
        "GET /healthz",
        "GET /.well-known/oauth-protected-resource",
        "OPTIONS /.well-known/oauth-protected-resource",
        "GET /.well-known/oauth-protected-resource/mcp",
        "OPTIONS /.well-known/oauth-protected-resource/mcp",
        "GET /.well-known/oauth-authorization-server",
        "OPTIONS /.well-known/oauth-authorization-server",
        "GET /.well-known/openid-configuration",
        "OPTIONS /.well-known/openid-configuration",
        "GET /authorize",
        "POST /authorize",
        "POST /token",
        "OPTIONS /token",
        "POST /register",
        "OPTIONS /register",
        "POST /revoke",
        "OPTIONS /revoke",
        "GET /consent",
        "POST /consent",
        "GET /oauth/grants",
        "DELETE /oauth/grants/{grant_id}",
    }


def test_given_the_http_api_then_legacy_sse_is_not_routed_because_it_cannot_stream(
    default_synth: Synth,
) -> None:
    assert not [route for route in _routes(default_synth) if "/sse" in route or "/messages" in route]
    assert not [route for route in _routes(default_synth) if "$default" in route or "{proxy+}" in route]


def test_given_the_routes_then_each_proxies_to_the_api_function_with_payload_v2(default_synth: Synth) -> None:
    integrations = default_synth.resources("AWS::ApiGatewayV2::Integration").values()
    api_function_id = default_synth.logical_id(default_synth.stack.api.function)

    assert integrations
    for integration in integrations:
        props = integration["Properties"]
        assert props["IntegrationType"] == "AWS_PROXY"
        assert props["PayloadFormatVersion"] == "2.0"
        assert props["IntegrationUri"] == {"Fn::GetAtt": [api_function_id, "Arn"]}


def test_given_the_stage_then_it_throttles_and_writes_json_access_logs(default_synth: Synth) -> None:
    stages = list(default_synth.resources("AWS::ApiGatewayV2::Stage").values())

    assert len(stages) == 1
    stage = stages[0]["Properties"]
    assert stage["StageName"] == "$default"
    assert stage["AutoDeploy"] is True
    assert stage["DefaultRouteSettings"] == {"ThrottlingBurstLimit": 40, "ThrottlingRateLimit": 20}
    access_logs = default_synth.logical_id(default_synth.stack.api.access_logs)
    assert stage["AccessLogSettings"]["DestinationArn"] == {"Fn::GetAtt": [access_logs, "Arn"]}
    assert '"requestId": "$context.requestId"' in stage["AccessLogSettings"]["Format"]
    assert "authorization" not in stage["AccessLogSettings"]["Format"].lower()


def test_given_no_origins_then_the_api_answers_no_cors_preflight(default_synth: Synth) -> None:
    api = next(iter(default_synth.resources("AWS::ApiGatewayV2::Api").values()))["Properties"]

    assert "CorsConfiguration" not in api
    assert schema.ENV_ALLOWED_ORIGINS not in _api_function(default_synth)["Environment"]["Variables"]


def test_given_allowed_origins_then_cors_and_the_function_use_exactly_those(full_synth: Synth) -> None:
    api = next(iter(full_synth.resources("AWS::ApiGatewayV2::Api").values()))["Properties"]
    origins = ["https://inspector.example.org", "http://localhost:6274"]

    cors = api["CorsConfiguration"]
    assert cors["AllowOrigins"] == origins
    assert {"authorization", "content-type", "mcp-protocol-version", "mcp-session-id"} <= set(
        cors["AllowHeaders"]
    )
    assert "mcp-session-id" in cors["ExposeHeaders"]
    variables = _api_function(full_synth)["Environment"]["Variables"]
    assert variables[schema.ENV_ALLOWED_ORIGINS] == ",".join(origins)


def test_given_no_client_limits_then_the_api_uses_its_built_in_defaults(default_synth: Synth) -> None:
    assert schema.ENV_CLIENT_LIMITS not in _api_function(default_synth)["Environment"]["Variables"]


def test_given_client_limits_then_only_the_api_function_reads_them(full_synth: Synth) -> None:
    api_variables = _api_function(full_synth)["Environment"]["Variables"]
    worker_variables = _worker_function(full_synth)["Environment"]["Variables"]

    assert json.loads(api_variables[schema.ENV_CLIENT_LIMITS]) == {
        "*": {"jobs_in_flight": 5},
        "ci": {"images_per_day": None},
    }
    assert schema.ENV_CLIENT_LIMITS not in worker_variables


def test_given_a_custom_domain_then_it_is_mapped_allowed_and_used_for_the_mcp_url(full_synth: Synth) -> None:
    domains = list(full_synth.resources("AWS::ApiGatewayV2::DomainName").values())
    mappings = full_synth.resources("AWS::ApiGatewayV2::ApiMapping")
    variables = _api_function(full_synth)["Environment"]["Variables"]

    assert [domain["Properties"]["DomainName"] for domain in domains] == ["mcp.example.org"]
    assert len(mappings) == 1
    assert "mcp.example.org" in str(variables[schema.ENV_ALLOWED_HOSTS])
    assert full_synth.json["Outputs"][Outputs.MCP_URL]["Value"] == "https://mcp.example.org/mcp"
    assert Outputs.CUSTOM_DOMAIN_TARGET in full_synth.json["Outputs"]


def test_given_a_custom_domain_then_the_oauth_issuer_and_resource_follow_it(full_synth: Synth) -> None:
    variables = _api_function(full_synth)["Environment"]["Variables"]
    settings = AwsSettings.model_validate(
        {
            schema.ENV_JOBS_TABLE: "jobs",
            schema.ENV_GENERATIONS_TABLE: "generations",
            schema.ENV_QUEUE_URL: "https://sqs.example/queue",
            schema.ENV_R2_BUCKET: "bucket",
            schema.ENV_R2_PUBLIC_BASE_URL: "https://images.example.org",
            schema.ENV_PUBLIC_URL: variables[schema.ENV_PUBLIC_URL],
        }
    )
    urls = OAuthUrls(settings.public_url)

    assert variables[schema.ENV_PUBLIC_URL] == "https://mcp.example.org"
    assert authorization_server_metadata(urls).model_dump(mode="json")["issuer"] == "https://mcp.example.org"
    assert str(protected_resource_metadata(urls).resource) == "https://mcp.example.org/mcp"


def test_given_no_custom_domain_then_the_oauth_issuer_is_the_execute_api_url(default_synth: Synth) -> None:
    parts = _api_function(default_synth)["Environment"]["Variables"][schema.ENV_PUBLIC_URL]["Fn::Join"][1]

    assert parts[0] == "https://"
    assert parts[1] == _ref(default_synth, default_synth.stack.api.http_api)
    assert ".execute-api." in parts[2]


def test_given_full_context_then_r2_settings_reach_the_functions_normalised(full_synth: Synth) -> None:
    variables = _worker_function(full_synth)["Environment"]["Variables"]

    assert variables[schema.ENV_R2_PUBLIC_BASE_URL] == "https://images.example.org"
    assert variables[schema.ENV_R2_JURISDICTION] == "eu"
    assert variables[schema.ENV_R2_ACCOUNT_ID] == "0123456789abcdef0123456789abcdef"


# ------------------------------------------------------------------------------------------------ secret


def test_given_the_secret_then_it_names_every_schema_key_and_generates_only_the_token(
    default_synth: Synth,
) -> None:
    secret = default_synth.properties(default_synth.stack.credentials.secret)
    generated = secret["GenerateSecretString"]

    assert generated["GenerateStringKey"] == schema.SECRET_AUTH_TOKEN
    assert generated["PasswordLength"] >= 32
    template = json.loads(generated["SecretStringTemplate"])
    assert set(template) | {schema.SECRET_AUTH_TOKEN} == set(SECRET_KEYS)
    assert set(template.values()) == {""}
    assert all(key in secret["Description"] for key in SECRET_KEYS)


def test_given_the_secret_generator_then_it_is_frozen_so_deploys_never_regenerate_credentials(
    default_synth: Synth,
) -> None:
    # Changing any of this makes CloudFormation overwrite the operator's credentials and the token on
    # the next deploy. If this test fails, revert the change rather than updating the expectation.
    secret = default_synth.properties(default_synth.stack.credentials.secret)

    assert secret["GenerateSecretString"] == {
        "ExcludePunctuation": True,
        "GenerateStringKey": "AUTH_TOKEN",
        "PasswordLength": 48,
        "SecretStringTemplate": '{"ADMIN_CLIENT": "", "AUTH_TOKENS": "", "CLOUDFLARE_API_TOKEN": "", '
        '"R2_ACCESS_KEY_ID": "", "R2_SECRET_ACCESS_KEY": ""}',
    }


# ------------------------------------------------------------------------------------------------ outputs


def test_given_default_context_then_outputs_let_tools_find_every_resource(default_synth: Synth) -> None:
    outputs = default_synth.json["Outputs"]
    stack = default_synth.stack

    assert set(outputs) == {
        Outputs.MCP_URL,
        Outputs.API_URL,
        Outputs.API_FUNCTION_NAME,
        Outputs.API_LOG_GROUP,
        Outputs.API_ACCESS_LOG_GROUP,
        Outputs.WORKER_FUNCTION_NAME,
        Outputs.WORKER_LOG_GROUP,
        Outputs.JOBS_TABLE,
        Outputs.GENERATIONS_TABLE,
        Outputs.OAUTH_TABLE,
        Outputs.QUEUE_URL,
        Outputs.DEAD_LETTER_QUEUE_URL,
        Outputs.SECRET_ARN,
        Outputs.ALARM_TOPIC_ARN,
        Outputs.DASHBOARD_NAME,
    }
    assert outputs[Outputs.API_FUNCTION_NAME]["Value"] == _ref(default_synth, stack.api.function)
    assert outputs[Outputs.WORKER_FUNCTION_NAME]["Value"] == _ref(default_synth, stack.worker.function)
    assert outputs[Outputs.API_LOG_GROUP]["Value"] == _ref(default_synth, stack.api.handler.log_group)
    assert outputs[Outputs.WORKER_LOG_GROUP]["Value"] == _ref(default_synth, stack.worker.handler.log_group)
    assert outputs[Outputs.JOBS_TABLE]["Value"] == _ref(default_synth, stack.data.jobs)
    assert outputs[Outputs.QUEUE_URL]["Value"] == _ref(default_synth, stack.jobs.queue)
    assert outputs[Outputs.SECRET_ARN]["Value"] == _ref(default_synth, stack.credentials.secret)
    assert outputs[Outputs.ALARM_TOPIC_ARN]["Value"] == _ref(default_synth, stack.monitoring.topic)
    assert outputs[Outputs.DASHBOARD_NAME]["Value"] == _ref(default_synth, stack.dashboard.dashboard)


def test_given_default_context_then_the_mcp_url_is_the_execute_api_host_and_path(
    default_synth: Synth,
) -> None:
    parts = default_synth.json["Outputs"][Outputs.MCP_URL]["Value"]["Fn::Join"][1]

    assert parts[0] == "https://"
    assert parts[1] == _ref(default_synth, default_synth.stack.api.http_api)
    assert parts[-1] == "/mcp"


def test_given_stage_prod_then_the_stack_is_named_after_it(default_synth: Synth, full_synth: Synth) -> None:
    assert default_synth.stack.stack_name == "imagegen-dev"
    assert full_synth.stack.stack_name == "imagegen-prod"


def test_given_tracing_then_responses_are_not_captured_into_x_ray(default_synth: Synth) -> None:
    for function in (default_synth.stack.api.function, default_synth.stack.worker.function):
        resource = default_synth.resources("AWS::Lambda::Function")[default_synth.logical_id(function)]
        assert (
            resource["Properties"]["Environment"]["Variables"]["POWERTOOLS_TRACER_CAPTURE_RESPONSE"]
            == "false"
        )
