"""`imagegen logs` reads the deployed stack's log groups (found from its outputs) on moto."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest
import typer
from infra.outputs import Outputs
from typer.testing import CliRunner

from imagegen.cli import bootstrap
from imagegen.cli import logs as logs_cli
from tests.support.aws import REGION

JOB = "3f2b9c1e-8a4d-4e6f-9b2a-1c3d5e7f9a0b"
OTHER_JOB = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    logs_cli.register(app)
    bootstrap.register(app)
    return app


@pytest.fixture
def deployed_logs(aws: None) -> Any:
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    logs = boto3.client("logs", region_name=REGION)
    template = {
        "Resources": {
            "ApiLogs": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {"LogGroupName": "/aws/lambda/imagegen-api"},
            },
            "WorkerLogs": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {"LogGroupName": "/aws/lambda/imagegen-worker"},
            },
        },
        "Outputs": {
            Outputs.API_LOG_GROUP: {"Value": {"Ref": "ApiLogs"}},
            Outputs.WORKER_LOG_GROUP: {"Value": {"Ref": "WorkerLogs"}},
        },
    }
    cloudformation.create_stack(StackName="imagegen-dev", TemplateBody=json.dumps(template))
    now = int(time.time() * 1000)
    lines = {
        "/aws/lambda/imagegen-api": [
            {"level": "INFO", "message": "request handled", "tool": "generate_image", "job_ids": [JOB]},
            {"level": "INFO", "message": "request handled", "tool": "list_jobs"},
        ],
        "/aws/lambda/imagegen-worker": [
            {"level": "INFO", "message": "job processed", "job_id": JOB, "outcome": "completed"},
            {"level": "ERROR", "message": "worker crashed", "job_id": OTHER_JOB},
        ],
    }
    for group, records in lines.items():
        logs.create_log_stream(logGroupName=group, logStreamName="s")
        logs.put_log_events(
            logGroupName=group,
            logStreamName="s",
            logEvents=[
                {"timestamp": now - 1000 + index, "message": json.dumps(record)}
                for index, record in enumerate(records)
            ],
        )
    return logs


def test_the_output_keys_match_the_cdk_stack() -> None:
    assert logs_cli.API_LOG_GROUP_OUTPUT == Outputs.API_LOG_GROUP
    assert logs_cli.WORKER_LOG_GROUP_OUTPUT == Outputs.WORKER_LOG_GROUP


def test_logs_for_one_job_show_both_functions_in_time_order(cli: typer.Typer, deployed_logs: Any) -> None:
    result = CliRunner().invoke(cli, ["logs", "--since", "10m", "--job-id", JOB])

    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 2
    assert "api" in lines[0] and "generate_image" in lines[0]
    assert "worker" in lines[1] and "job processed" in lines[1]
    assert OTHER_JOB not in result.stdout


def test_logs_filter_by_level_and_function(cli: typer.Typer, deployed_logs: Any) -> None:
    result = CliRunner().invoke(cli, ["logs", "--level", "error", "--function", "worker"])

    assert result.exit_code == 0, result.output
    assert "worker crashed" in result.stdout
    assert "job processed" not in result.stdout and "request handled" not in result.stdout


def test_logs_explain_a_missing_stack(cli: typer.Typer, aws: None) -> None:
    result = CliRunner().invoke(cli, ["logs", "--stack", "nope"])

    assert result.exit_code == 1
    assert "could not read stack nope" in result.output


def test_bootstrap_refuses_to_run_without_an_endpoint(
    cli: typer.Typer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)

    result = CliRunner().invoke(cli, ["bootstrap-aws"])

    assert result.exit_code == 2
    assert "AWS_ENDPOINT_URL" in result.output


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30), ("10m", 600), ("2h", 7200), ("1d", 86400)])
def test_since_accepts_the_usual_units(text: str, seconds: int) -> None:
    assert logs_cli.parse_since(text).total_seconds() == seconds
