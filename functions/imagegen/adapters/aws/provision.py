"""Create the tables, queue and bucket on any AWS-compatible endpoint (moto, LocalStack).

Used by `imagegen bootstrap-aws`, `imagegen serve --backend aws` and the tests. The CDK app builds the
same resources from the same schema module for real deployments. Every step is idempotent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from imagegen.adapters.aws import schema

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import GlobalSecondaryIndexTypeDef
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.literals import QueueAttributeNameType


@dataclass(frozen=True)
class QueueUrls:
    queue_url: str
    dlq_url: str


def create_table(
    client: DynamoDBClient,
    name: str,
    indexes: Mapping[str, tuple[str, str]],
    *,
    partition_key: str = schema.PARTITION_KEY,
    wait: bool = True,
) -> None:
    attributes = {partition_key} | {name for pair in indexes.values() for name in pair}
    gsis: list[GlobalSecondaryIndexTypeDef] = [
        {
            "IndexName": index,
            "KeySchema": [
                {"AttributeName": partition, "KeyType": "HASH"},
                {"AttributeName": sort, "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": schema.GSI_PROJECTION},
        }
        for index, (partition, sort) in indexes.items()
    ]
    try:
        client.create_table(
            TableName=name,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": partition_key, "KeyType": "HASH"}],
            AttributeDefinitions=[
                {"AttributeName": attribute, "AttributeType": "S"} for attribute in sorted(attributes)
            ],
            GlobalSecondaryIndexes=gsis,
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceInUseException":
            raise
        _add_missing_indexes(client, name, gsis)
    if wait:
        client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})


def _add_missing_indexes(client: DynamoDBClient, name: str, gsis: list[GlobalSecondaryIndexTypeDef]) -> None:
    """A table made by an earlier version gets the indexes added since (one per update, as DynamoDB allows)."""
    existing = {
        index["IndexName"]
        for index in client.describe_table(TableName=name)["Table"].get("GlobalSecondaryIndexes", [])
    }
    for gsi in gsis:
        if gsi["IndexName"] in existing:
            continue
        client.update_table(
            TableName=name,
            AttributeDefinitions=[
                {"AttributeName": key["AttributeName"], "AttributeType": "S"} for key in gsi["KeySchema"]
            ],
            GlobalSecondaryIndexUpdates=[{"Create": gsi}],
        )


def create_job_tables(client: DynamoDBClient, jobs_table: str, generations_table: str) -> None:
    create_table(client, jobs_table, schema.JOBS_INDEXES)
    create_table(client, generations_table, schema.GENERATIONS_INDEXES)


def create_oauth_table(client: DynamoDBClient, name: str) -> None:
    """The OAuth table, with TTL on `expires_at` as the CDK app declares it."""
    create_table(client, name, schema.OAUTH_INDEXES, partition_key=schema.OAUTH_PARTITION_KEY)
    try:
        client.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": schema.TTL_ATTRIBUTE},
        )
    except ClientError as exc:
        # Already on: UpdateTimeToLive refuses to switch TTL on twice.
        if exc.response.get("Error", {}).get("Code") != "ValidationException":
            raise


def create_queues(
    client: SQSClient,
    name: str,
    *,
    visibility_timeout_seconds: int,
    max_receive_count: int = schema.DEFAULT_MAX_RECEIVE_COUNT,
) -> QueueUrls:
    """The job queue and its dead-letter queue (create_queue is idempotent for equal attributes)."""
    dlq_url = client.create_queue(QueueName=f"{name}-dlq", Attributes={"MessageRetentionPeriod": "1209600"})[
        "QueueUrl"
    ]
    dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    attributes: dict[QueueAttributeNameType, str] = {
        "VisibilityTimeout": str(visibility_timeout_seconds),
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count}),
    }
    try:
        queue_url = client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("QueueAlreadyExists", "QueueNameExists"):
            raise
        # Made by an earlier version with other settings: bring it up to date.
        queue_url = client.get_queue_url(QueueName=name)["QueueUrl"]
        client.set_queue_attributes(QueueUrl=queue_url, Attributes=attributes)
    return QueueUrls(queue_url=queue_url, dlq_url=dlq_url)


def create_bucket(client: S3Client, bucket: str, *, public_read: bool = False) -> None:
    """The image bucket; `public_read` makes an emulator's bucket serve objects as R2's public URL does."""
    region = client.meta.region_name
    try:
        if region in (None, "us-east-1"):
            client.create_bucket(Bucket=bucket)
        else:
            # S3 outside us-east-1 (and moto standing in for R2's region "auto") wants the region named.
            client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})  # type: ignore[typeddict-item]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in (
            "BucketAlreadyOwnedByYou",
            "BucketAlreadyExists",
        ):
            raise
    if public_read:
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "PublicRead",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{bucket}/*",
                }
            ],
        }
        client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))


def put_secret(client: SecretsManagerClient, name: str, values: Mapping[str, str]) -> str:
    """Create the credentials secret (a JSON object) or replace its value; returns its ARN."""
    text = json.dumps(dict(values))
    try:
        return client.create_secret(Name=name, SecretString=text)["ARN"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceExistsException":
            raise
    return client.put_secret_value(SecretId=name, SecretString=text)["ARN"]
