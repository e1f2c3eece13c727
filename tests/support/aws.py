"""moto-backed AWS for tests: fake credentials, R2's endpoint routed to moto, the job tables.

No hand-written fakes of AWS: everything here runs the real boto3 calls against moto.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any
from unittest import mock

import boto3
from moto import mock_aws

from imagegen.adapters.aws.dynamodb_grants import DynamoDBGrantStore
from imagegen.adapters.aws.dynamodb_store import DynamoDBJobStore
from imagegen.adapters.aws.dynamodb_tasks import DynamoDBTaskStore
from imagegen.adapters.aws.provision import create_job_tables, create_oauth_table

REGION = "eu-west-1"
JOBS_TABLE = "imagegen-jobs"
GENERATIONS_TABLE = "imagegen-generations"
OAUTH_TABLE = "imagegen-oauth"
R2_ACCOUNT_ID = "0123456789abcdef0123456789abcdef"
R2_ENDPOINT = f"https://{R2_ACCOUNT_ID}.r2.cloudflarestorage.com"
R2_EU_ENDPOINT = f"https://{R2_ACCOUNT_ID}.eu.r2.cloudflarestorage.com"

FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    # moto answers for these hosts as if they were S3, so R2 requests never leave the process.
    "MOTO_S3_CUSTOM_ENDPOINTS": f"{R2_ENDPOINT},{R2_EU_ENDPOINT}",
}
UNSET_AWS_ENV = ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")


@contextmanager
def fake_aws_env() -> Iterator[None]:
    with mock.patch.dict("os.environ", FAKE_AWS_ENV):
        import os

        saved = {name: os.environ.pop(name) for name in UNSET_AWS_ENV if name in os.environ}
        try:
            yield
        finally:
            os.environ.update(saved)


def no_scans(client: Any) -> list[str]:
    """Record every Scan the client attempts: the store must make none."""
    seen: list[str] = []
    client.meta.events.register("before-call.dynamodb.Scan", lambda **kwargs: seen.append("Scan"))
    return seen


@contextmanager
def dynamodb_tables() -> Iterator[Any]:
    """A DynamoDB client on fresh moto job and OAuth tables; whatever uses it must never Scan."""
    with fake_aws_env(), mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_job_tables(client, JOBS_TABLE, GENERATIONS_TABLE)
        create_oauth_table(client, OAUTH_TABLE)
        scans = no_scans(client)
        yield client
        assert scans == [], "the DynamoDB stores must never Scan"


@asynccontextmanager
async def dynamodb_job_store() -> AsyncIterator[DynamoDBJobStore]:
    """A DynamoDBJobStore on fresh moto tables, for the JobStore contract suite."""
    with dynamodb_tables() as client:
        yield DynamoDBJobStore(JOBS_TABLE, GENERATIONS_TABLE, client)


@asynccontextmanager
async def dynamodb_task_store() -> AsyncIterator[DynamoDBTaskStore]:
    """A DynamoDBTaskStore on fresh moto tables, for the TaskStore contract suite."""
    with dynamodb_tables() as client:
        yield DynamoDBTaskStore(JOBS_TABLE, client)


@asynccontextmanager
async def dynamodb_grant_store() -> AsyncIterator[DynamoDBGrantStore]:
    """A DynamoDBGrantStore on a fresh moto table, for the GrantStore contract suite."""
    with dynamodb_tables() as client:
        yield DynamoDBGrantStore(OAUTH_TABLE, client)
