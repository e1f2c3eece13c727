"""Fixtures for the AWS adapters and handlers: moto for AWS and for R2's S3 API, fake credentials only."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

from imagegen.adapters.aws import schema
from imagegen.adapters.aws.dynamodb_store import DynamoDBJobStore
from imagegen.adapters.aws.provision import (
    create_bucket,
    create_job_tables,
    create_oauth_table,
    create_queues,
)
from imagegen.adapters.aws.r2_store import make_r2_client
from imagegen.observability import ContextKeysFilter, configure_logging
from imagegen.runtime import deployment
from tests.integration.aws.stack import (
    API_DOMAIN,
    AUTH_TOKEN,
    BUCKET,
    CUSTOM_DOMAIN,
    MAX_RECEIVE_COUNT,
    OTHER_TOKEN,
    PUBLIC_BASE_URL,
    QUEUE_NAME,
    Stack,
)
from tests.support.aws import (
    FAKE_AWS_ENV,
    GENERATIONS_TABLE,
    JOBS_TABLE,
    OAUTH_TABLE,
    R2_ACCOUNT_ID,
    REGION,
    UNSET_AWS_ENV,
    no_scans,
)


@pytest.fixture(autouse=True)
def fake_aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in UNSET_AWS_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in FAKE_AWS_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def dynamodb(aws: None) -> Any:
    return boto3.client("dynamodb", region_name=REGION)


@pytest.fixture
def dynamo_store(dynamodb: Any) -> Iterator[DynamoDBJobStore]:
    create_job_tables(dynamodb, JOBS_TABLE, GENERATIONS_TABLE)
    scans = no_scans(dynamodb)
    yield DynamoDBJobStore(JOBS_TABLE, GENERATIONS_TABLE, dynamodb)
    assert scans == [], "the DynamoDB store must never Scan"


# The handler modules own their service loggers ("mcp_api", "image_worker"); these are shared.
TOUCHED_LOGGERS = ("imagegen", "mcp", "mangum")


@pytest.fixture(autouse=True)
def isolated_logging() -> Iterator[None]:
    """The handler modules configure logging process-wide, as a Lambda container should; give it back
    afterwards so tests elsewhere in the session see the logging they expect (caplog included)."""
    saved = {}
    for name in TOUCHED_LOGGERS:
        found = logging.getLogger(name)
        saved[name] = (list(found.handlers), found.propagate, found.level)
    root_filters = [(handler, list(handler.filters)) for handler in logging.root.handlers]
    yield
    for name, (handlers, propagate, level) in saved.items():
        found = logging.getLogger(name)
        found.handlers, found.propagate = handlers, propagate
        found.setLevel(level)
    for handler, filters in root_filters:
        handler.filters = filters


def load_handlers() -> tuple[ModuleType, ModuleType]:
    """The two Lambda entry modules, imported as Lambda does and (re)configured for this test."""
    import image_worker.handler as worker_handler
    import mcp_api.handler as api_handler

    configure_logging(api_handler.logger)
    configure_logging(worker_handler.logger)
    return api_handler, worker_handler


def reset_handler_caches() -> None:
    """A new 'container': the next invocation builds its runtime from the current environment."""
    api_handler, worker_handler = load_handlers()
    parameters.clear_caches()
    worker_handler.runtime.cache_clear()
    api_handler.runtime.cache_clear()
    api_handler.server.cache_clear()
    api_handler.app_context.cache_clear()
    api_handler.allowed_origins.cache_clear()


@pytest.fixture
def stack(isolated_logging: None, aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    r2 = make_r2_client(R2_ACCOUNT_ID, "r2-access-key", "r2-secret-key")
    secrets = boto3.client("secretsmanager", region_name=REGION)
    create_job_tables(dynamodb, JOBS_TABLE, GENERATIONS_TABLE)
    create_oauth_table(dynamodb, OAUTH_TABLE)
    queues = create_queues(
        sqs,
        QUEUE_NAME,
        visibility_timeout_seconds=deployment.visibility_timeout_seconds(),
        max_receive_count=MAX_RECEIVE_COUNT,
    )
    create_bucket(r2, BUCKET)
    secret_arn = secrets.create_secret(
        Name="imagegen/credentials",
        SecretString=json.dumps(
            {
                schema.SECRET_AUTH_TOKEN: AUTH_TOKEN,
                schema.SECRET_AUTH_TOKENS: {"other": OTHER_TOKEN},
                schema.SECRET_CLOUDFLARE_API_TOKEN: "cf-token",
                schema.SECRET_R2_ACCESS_KEY_ID: "r2-access-key",
                schema.SECRET_R2_SECRET_ACCESS_KEY: "r2-secret-key",
            }
        ),
    )["ARN"]
    environment = {
        schema.ENV_JOBS_TABLE: JOBS_TABLE,
        schema.ENV_GENERATIONS_TABLE: GENERATIONS_TABLE,
        schema.ENV_OAUTH_TABLE: OAUTH_TABLE,
        schema.ENV_QUEUE_URL: queues.queue_url,
        schema.ENV_R2_BUCKET: BUCKET,
        schema.ENV_R2_PUBLIC_BASE_URL: PUBLIC_BASE_URL,
        schema.ENV_R2_ACCOUNT_ID: R2_ACCOUNT_ID,
        schema.ENV_SECRET_ARN: secret_arn,
        # As the CDK app sets it: the execute-api name and the custom domain.
        schema.ENV_ALLOWED_HOSTS: f"{API_DOMAIN},{CUSTOM_DOMAIN}",
        schema.ENV_MAX_RECEIVE_COUNT: str(MAX_RECEIVE_COUNT),
        # The provider's own retries would hide the redelivery path these tests are about.
        "WORKERS_AI_MAX_RETRIES": "0",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    reset_handler_caches()
    api_handler, worker_handler = load_handlers()
    yield Stack(
        dynamodb=dynamodb,
        sqs=sqs,
        r2=r2,
        queue_url=queues.queue_url,
        dlq_url=queues.dlq_url,
        api=api_handler,
        worker=worker_handler,
    )
    reset_handler_caches()


@pytest.fixture
def handler_logs(isolated_logging: None) -> Iterator[io.StringIO]:
    """What the Powertools handlers write (their streams are bound when the modules are imported). The
    core's loggers follow whichever handler module configured them last; a Lambda loads only one."""
    api_handler, worker_handler = load_handlers()
    candidates = (
        worker_handler.logger.registered_handler,
        api_handler.logger.registered_handler,
        *logging.getLogger("imagegen").handlers,
    )
    handlers = {
        handler
        for handler in candidates
        if isinstance(handler, logging.StreamHandler)
        and any(isinstance(found, ContextKeysFilter) for found in handler.filters)
    }
    stream = io.StringIO()
    previous = {handler: handler.setStream(stream) for handler in handlers}
    yield stream
    for handler, old in previous.items():
        handler.setStream(old)
