"""Least privilege, no secret in the template, cdk-nag clean with reasons, cfn-lint clean."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Annotations, Match
from infra.app import build_app
from infra.constructs.data import API_ACTIONS, OAUTH_ACTIONS, WORKER_ACTIONS

from imagegen.adapters.aws import schema
from tests.infra.conftest import Synth, Synthesizer

# The only actions AWS offers no resource-level permissions for, among those we use.
RESOURCE_STAR_ALLOWED = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def _statements(synth: Synth) -> Iterator[tuple[str, dict[str, Any]]]:
    """(role logical id, statement) for every identity policy statement in the template."""
    for policy in synth.resources("AWS::IAM::Policy").values():
        for role in policy["Properties"]["Roles"]:
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                yield role["Ref"], statement
    for role_id, role in synth.resources("AWS::IAM::Role").items():
        for inline in role["Properties"].get("Policies", []):
            for statement in inline["PolicyDocument"]["Statement"]:
                yield role_id, statement


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _role_of(synth: Synth, function: Any) -> str:
    return synth.logical_id(function.role)


def _actions_of(synth: Synth, role_id: str) -> set[str]:
    return {
        action
        for role, statement in _statements(synth)
        if role == role_id
        for action in _as_list(statement["Action"])
    }


def _arn_of(synth: Synth, construct: Any) -> dict[str, Any]:
    return {"Fn::GetAtt": [synth.logical_id(construct), "Arn"]}


# ------------------------------------------------------------------------------------------------- IAM


@pytest.mark.parametrize("synth_name", ["default_synth", "full_synth"])
def test_given_any_policy_then_no_action_is_a_wildcard(
    synth_name: str, request: pytest.FixtureRequest
) -> None:
    synth: Synth = request.getfixturevalue(synth_name)

    for _, statement in _statements(synth):
        assert statement["Effect"] == "Allow"
        for action in _as_list(statement["Action"]):
            assert "*" not in action, f"wildcard action {action}"
            assert action != "dynamodb:*"


@pytest.mark.parametrize("synth_name", ["default_synth", "full_synth"])
def test_given_any_policy_then_star_resources_are_only_for_xray(
    synth_name: str, request: pytest.FixtureRequest
) -> None:
    synth: Synth = request.getfixturevalue(synth_name)

    for _, statement in _statements(synth):
        if "*" in _as_list(statement["Resource"]):
            assert set(_as_list(statement["Action"])) <= RESOURCE_STAR_ALLOWED


def test_given_the_function_roles_then_no_managed_policy_is_attached(default_synth: Synth) -> None:
    roles = default_synth.resources("AWS::IAM::Role").values()

    assert len(roles) == 2
    for role in roles:
        assert "ManagedPolicyArns" not in role["Properties"]
        principal = role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
        assert principal == {"Service": "lambda.amazonaws.com"}


def test_given_dynamodb_permissions_then_they_cover_only_our_tables_and_their_indexes(
    default_synth: Synth,
) -> None:
    data = default_synth.stack.data
    tables = [default_synth.logical_id(table) for table in (*data.tables, data.oauth)]
    allowed: list[Any] = []
    for table in tables:
        arn = {"Fn::GetAtt": [table, "Arn"]}
        allowed += [arn, {"Fn::Join": ["", [arn, "/index/*"]]}]

    for _, statement in _statements(default_synth):
        actions = _as_list(statement["Action"])
        if any(action.startswith("dynamodb:") for action in actions):
            assert all(action.startswith("dynamodb:") for action in actions)
            assert set(actions) <= {*API_ACTIONS, *WORKER_ACTIONS, *OAUTH_ACTIONS}
            assert "dynamodb:Scan" not in actions
            for resource in _as_list(statement["Resource"]):
                assert resource in allowed


def test_given_each_function_then_it_gets_only_the_dynamodb_actions_its_code_calls(
    default_synth: Synth,
) -> None:
    stack = default_synth.stack
    api = {
        a
        for a in _actions_of(default_synth, _role_of(default_synth, stack.api.function))
        if a.startswith("dynamodb:")
    }
    worker = {
        a
        for a in _actions_of(default_synth, _role_of(default_synth, stack.worker.function))
        if a.startswith("dynamodb:")
    }

    assert api == set(API_ACTIONS) | set(OAUTH_ACTIONS)
    assert worker == set(WORKER_ACTIONS)
    assert "dynamodb:Query" not in worker and "dynamodb:DeleteItem" not in worker


def test_given_the_oauth_table_then_only_the_api_function_may_touch_it(default_synth: Synth) -> None:
    oauth_arn = _arn_of(default_synth, default_synth.stack.data.oauth)
    readers = {
        role
        for role, statement in _statements(default_synth)
        for resource in _as_list(statement.get("Resource", []))
        if resource in (oauth_arn, {"Fn::Join": ["", [oauth_arn, "/index/*"]]})
    }

    assert readers == {_role_of(default_synth, default_synth.stack.api.function)}


def test_given_each_function_then_it_reads_only_the_one_secret(default_synth: Synth) -> None:
    secret_ref = {"Ref": default_synth.logical_id(default_synth.stack.credentials.secret)}
    readers = set()

    for role, statement in _statements(default_synth):
        actions = _as_list(statement["Action"])
        if any(action.startswith("secretsmanager:") for action in actions):
            assert set(actions) <= {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
            assert _as_list(statement["Resource"]) == [secret_ref]
            readers.add(role)
    stack = default_synth.stack
    assert readers == {
        _role_of(default_synth, stack.api.function),
        _role_of(default_synth, stack.worker.function),
    }


def test_given_the_queue_then_only_the_api_sends_and_only_the_worker_consumes(default_synth: Synth) -> None:
    stack = default_synth.stack
    api_actions = _actions_of(default_synth, _role_of(default_synth, stack.api.function))
    worker_actions = _actions_of(default_synth, _role_of(default_synth, stack.worker.function))

    assert "sqs:SendMessage" in api_actions
    assert "sqs:ReceiveMessage" not in api_actions
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"} <= worker_actions
    assert "sqs:SendMessage" not in worker_actions
    queue_arn = _arn_of(default_synth, stack.jobs.queue)
    for _, statement in _statements(default_synth):
        if any(action.startswith("sqs:") for action in _as_list(statement["Action"])):
            assert _as_list(statement["Resource"]) == [queue_arn]


def test_given_log_permissions_then_each_function_writes_only_its_own_group(default_synth: Synth) -> None:
    stack = default_synth.stack
    expected = {
        _role_of(default_synth, stack.api.function): _arn_of(default_synth, stack.api.handler.log_group),
        _role_of(default_synth, stack.worker.function): _arn_of(
            default_synth, stack.worker.handler.log_group
        ),
    }

    for role, statement in _statements(default_synth):
        if any(action.startswith("logs:") for action in _as_list(statement["Action"])):
            assert set(_as_list(statement["Action"])) == {"logs:CreateLogStream", "logs:PutLogEvents"}
            assert _as_list(statement["Resource"]) == [expected[role]]


# --------------------------------------------------------------------------------------------- secrets


def _walk(node: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


@pytest.mark.parametrize("synth_name", ["default_synth", "full_synth"])
def test_given_the_template_then_it_holds_no_secret_value(
    synth_name: str, request: pytest.FixtureRequest
) -> None:
    synth: Synth = request.getfixturevalue(synth_name)
    secret_keys = {
        schema.SECRET_AUTH_TOKEN,
        schema.SECRET_AUTH_TOKENS,
        schema.SECRET_ADMIN_CLIENT,
        schema.SECRET_CLOUDFLARE_API_TOKEN,
        schema.SECRET_R2_ACCESS_KEY_ID,
        schema.SECRET_R2_SECRET_ACCESS_KEY,
    }

    keys = [key for key, _ in _walk(synth.json)]
    assert "SecretString" not in keys
    assert "NoEcho" not in keys
    for key, value in _walk(synth.json):
        if key == "SecretStringTemplate":
            assert all(item == "" for item in json.loads(value).values())
        if key == "Variables":
            assert not secret_keys & set(value), "a credential must come from the secret, not the env"
    assert "Parameters" not in synth.json or all(
        name.startswith("BootstrapVersion") for name in synth.json["Parameters"]
    )


# ------------------------------------------------------------------------------------------------ nag


def _validation_report(outdir: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((outdir / "validation-report.json").read_text())
    return report


@pytest.mark.parametrize("synth_name", ["default_synth", "full_synth"])
def test_given_aws_solutions_checks_then_nothing_is_left_unacknowledged(
    synth_name: str, request: pytest.FixtureRequest
) -> None:
    synth: Synth = request.getfixturevalue(synth_name)

    report = _validation_report(synth.outdir)
    findings = [violation for plugin in report["pluginReports"] for violation in plugin.get("violations", [])]
    # Nag warnings count too; the only tolerated finding is our own placeholder-config warning.
    assert [finding for finding in findings if "AwsSolutions" in finding["ruleName"]] == []
    assert [finding for finding in findings if finding["severity"] != "warning"] == []
    assert Annotations.from_stack(synth.stack).find_error("*", Match.any_value()) == []


@pytest.mark.parametrize("synth_name", ["default_synth", "full_synth"])
def test_given_acknowledged_findings_then_each_carries_a_reason(
    synth_name: str, request: pytest.FixtureRequest
) -> None:
    synth: Synth = request.getfixturevalue(synth_name)

    acknowledged = [
        rule
        for resource in synth.json["Resources"].values()
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    ]
    assert {rule["id"].split("[")[0] for rule in acknowledged} >= {
        "AwsSolutions-APIG4",
        "AwsSolutions-L1",
        "AwsSolutions-SMG4",
        "AwsSolutions-IAM5",
    }
    for rule in acknowledged:
        assert len(rule["reason"]) >= 40, rule


def test_given_a_non_compliant_resource_then_synthesis_fails_on_cdk_nag(
    tmp_path: Path, synthesize: Synthesizer
) -> None:
    app, stack = build_app(synthesize.context(stage="nagcheck"), outdir=str(tmp_path))
    sqs.CfnQueue(stack, "PlainQueue")

    with pytest.raises(RuntimeError, match="ValidationFailed") as failure:
        app.synth()

    assert "AwsSolutions-SQS4" in str(failure.value)
    assert "imagegen-nagcheck/PlainQueue" in str(failure.value)


# -------------------------------------------------------------------------------------------- cfn-lint


@pytest.mark.parametrize("synth_name", ["default_synth", "full_synth"])
def test_given_the_template_then_cfn_lint_reports_no_error(
    synth_name: str, request: pytest.FixtureRequest
) -> None:
    from cfnlint.api import ManualArgs, lint  # type: ignore[import-untyped]

    synth: Synth = request.getfixturevalue(synth_name)

    matches = lint(json.dumps(synth.json), config=ManualArgs(regions=["us-east-1", "eu-central-1"]))

    errors = [f"{match.rule.id} {match.message}" for match in matches if match.rule.id.startswith("E")]
    assert errors == []
