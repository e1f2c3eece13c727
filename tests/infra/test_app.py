"""The CDK entry point and the post-deploy instructions, without AWS."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from infra.app import build_app
from infra.constructs.functions import LayerNotBuiltError
from infra.next_steps import main as next_steps_main
from infra.next_steps import render
from infra.outputs import Outputs

from tests.infra.conftest import REPO_ROOT, cdk_json_context

OUTPUTS = {
    Outputs.MCP_URL: "https://abc123.execute-api.eu-west-1.amazonaws.com/mcp",
    Outputs.API_URL: "https://abc123.execute-api.eu-west-1.amazonaws.com",
    Outputs.SECRET_ARN: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:CredentialsSecret-AbCdEf",
}


def test_given_no_built_layer_then_synthesis_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(LayerNotBuiltError, match="make layer"):
        build_app({**cdk_json_context(), "layer_path": str(tmp_path / "missing")})


def test_given_invalid_context_then_the_app_exits_with_a_readable_error() -> None:
    env = {**os.environ, "CDK_CONTEXT_JSON": json.dumps({"stage": "Not Valid"}), "CDK_OUTDIR": "/nonexistent"}

    result = subprocess.run(
        [sys.executable, "-m", "infra.app"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 2
    assert "error: invalid CDK context" in result.stderr
    assert "stage='Not Valid'" in result.stderr
    assert "Traceback" not in result.stderr


def test_given_deploy_outputs_then_next_steps_name_the_url_and_secret_without_values() -> None:
    text = render("imagegen-dev", OUTPUTS)

    assert OUTPUTS[Outputs.MCP_URL] in text
    assert f'arn = "{OUTPUTS[Outputs.SECRET_ARN]}"' in text
    assert "region_name=arn.split" in text
    assert "getpass" in text
    assert "Authorization: Bearer" in text
    assert "SNS" not in text


def test_given_an_alarm_topic_dashboard_and_domain_then_next_steps_mention_each() -> None:
    text = render(
        "imagegen-prod",
        {
            **OUTPUTS,
            Outputs.ALARM_TOPIC_ARN: "arn:aws:sns:x",
            Outputs.DASHBOARD_NAME: "imagegen-prod-eu-west-1",
            Outputs.CUSTOM_DOMAIN_TARGET: "d-1.execute-api",
        },
    )

    assert "Alarms notify the SNS topic arn:aws:sns:x" in text
    assert "confirm the SNS subscription e-mail" in text
    assert "Dashboards > imagegen-prod-eu-west-1" in text
    assert "CNAME your custom domain to d-1.execute-api" in text


def test_given_the_snippet_then_it_is_valid_python(tmp_path: Path) -> None:
    text = render("imagegen-dev", OUTPUTS)
    body = text.split("<<'PY'\n", 1)[1].split("\nPY", 1)[0]

    compile(body, "snippet", "exec")


def test_given_an_outputs_file_then_main_prints_each_stack(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"imagegen-dev": OUTPUTS}))

    assert next_steps_main([str(path)]) == 0
    assert "Deployed imagegen-dev" in capsys.readouterr().out
    assert next_steps_main([str(tmp_path / "missing.json")]) == 1
