"""CDK context validation: defaults that synthesize, and errors that name the key to fix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from infra.config import DEFAULT_LAYER_PATH, REPO_ROOT, ConfigError, DeployConfig, load_config

from tests.infra.conftest import cdk_json_context


def test_given_no_context_at_all_then_the_defaults_are_valid() -> None:
    config = load_config({})

    assert config.stage == "dev"
    assert config.stack_name == "imagegen-dev"
    assert config.r2_jurisdiction == "default"
    assert config.layer_path == DEFAULT_LAYER_PATH
    assert config.uses_placeholders == ["cloudflare_account_id", "r2_public_base_url"]


def test_given_cdk_json_then_its_context_equals_the_model_defaults() -> None:
    from_file = load_config(cdk_json_context())

    assert from_file == load_config({})


def test_given_cli_strings_then_they_are_parsed_into_typed_values() -> None:
    config = load_config(
        {
            "allowed_origins": "https://a.example.com, http://localhost:6274",
            "worker_reserved_concurrency": "2",
            "log_retention_days": "14",
            "retain_data": "false",
            "tracing": "false",
            "alarm_email": "",
            "custom_domain": "none",
        }
    )

    assert config.allowed_origins == ("https://a.example.com", "http://localhost:6274")
    assert config.worker_reserved_concurrency == 2
    assert config.log_retention_days == 14
    assert config.retain_data is False
    assert config.tracing is False
    assert config.alarm_email is None
    assert config.custom_domain is None


def test_given_unrelated_context_keys_then_they_are_ignored() -> None:
    context = {
        "@aws-cdk/core:target-partitions": ["aws"],
        "aws:cdk:enable-path-metadata": True,
        "acknowledged-issue-numbers": [123],
        "cli-telemetry": False,
    }

    assert load_config(context) == load_config({})


def test_given_a_misspelled_key_then_the_error_suggests_the_right_one() -> None:
    with pytest.raises(ConfigError, match="'stge'; did you mean 'stage'"):
        load_config({"stge": "prod"})


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("stage", "Prod_1", "stage='Prod_1'"),
        ("cloudflare_account_id", "not-hex", "32 hex characters"),
        ("r2_bucket", "Bad_Bucket", "3-63 lowercase"),
        ("r2_public_base_url", "http://images.example.com", "must be an https URL"),
        ("r2_jurisdiction", "us", "r2_jurisdiction='us'"),
        ("allowed_origins", "https://app.example.com/path", "is not an origin"),
        ("custom_domain", "not a host", "is not a host name"),
        ("alarm_email", "nobody", "is not an e-mail address"),
        ("log_retention_days", "31", "not a CloudWatch Logs retention period"),
        ("worker_reserved_concurrency", "1", "0 (no reservation) or at least 2"),
        ("worker_reserved_concurrency", "13", "less than or equal to 6"),
        ("api_rate_limit", "0", "greater than or equal to 1"),
        ("client_limits", '{"*": {"jobs_in_flight": 0}}', "CLIENT_LIMITS must be a JSON object"),
        ("client_limits", '{"*": {"images_a_day": 5}}', "images_a_day"),
        ("client_limits", "[1, 2]", "not an object"),
    ],
)
def test_given_an_invalid_value_then_the_error_names_the_key_and_the_rule(
    key: str, value: Any, message: str
) -> None:
    with pytest.raises(ConfigError) as failure:
        load_config({key: value})

    text = str(failure.value)
    assert text.startswith("invalid CDK context")
    assert key in text
    assert message in text


def test_given_client_limits_as_an_object_in_cdk_json_then_they_are_kept_as_json_text() -> None:
    config = load_config({"client_limits": {"*": {"jobs_in_flight": 3}}})

    assert config.client_limits is not None
    assert json.loads(config.client_limits) == {"*": {"jobs_in_flight": 3}}


def test_given_a_custom_domain_without_certificate_then_the_pairing_is_explained() -> None:
    with pytest.raises(ConfigError, match="custom_domain needs custom_domain_certificate_arn"):
        load_config({"custom_domain": "mcp.example.com"})


def test_given_concurrency_times_batch_above_twelve_then_the_rate_limit_is_explained() -> None:
    with pytest.raises(ConfigError, match="720 requests/minute"):
        load_config({"worker_reserved_concurrency": "4", "worker_batch_size": "4"})


def test_given_no_reservation_then_the_poller_is_capped_by_the_batch_size() -> None:
    config = load_config({"worker_reserved_concurrency": "0", "worker_batch_size": "4"})

    assert config.worker_max_concurrency * config.worker_batch_size <= 12
    assert config.worker_max_concurrency >= 2


def test_given_a_burst_below_the_rate_then_it_is_rejected() -> None:
    with pytest.raises(ConfigError, match="api_burst_limit must be at least api_rate_limit"):
        load_config({"api_rate_limit": "50", "api_burst_limit": "10"})


def test_given_a_relative_layer_path_then_it_resolves_from_the_repository_root() -> None:
    config = load_config({"layer_path": "some/dir"})

    assert config.layer_path == REPO_ROOT / "some" / "dir"
    assert isinstance(config.layer_path, Path)


def test_given_a_config_then_it_is_immutable() -> None:
    config = DeployConfig()

    with pytest.raises(ValueError, match="frozen"):
        config.stage = "prod"  # type: ignore[misc]
