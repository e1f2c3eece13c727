"""`imagegen bootstrap-aws`: the stack's tables, queues and bucket on an AWS-compatible endpoint.

`serve --backend aws` creates them too (every step is idempotent); this command is for pointing other
tools, or a debugger, at the same resources. Real deployments get them from the CDK app.
"""

from __future__ import annotations

import os
from typing import Annotated

import boto3
import typer

from imagegen.adapters.aws import schema
from imagegen.adapters.aws.provision import (
    create_bucket,
    create_job_tables,
    create_oauth_table,
    create_queues,
)
from imagegen.cli.console import console, out
from imagegen.emulator.stack import EMULATOR_CREDENTIALS, StackNames
from imagegen.runtime import deployment

DEFAULT_PREFIX = "imagegen"


def register(app: typer.Typer) -> None:
    app.command("bootstrap-aws")(bootstrap_aws_command)


def bootstrap(
    endpoint_url: str,
    region: str,
    prefix: str = DEFAULT_PREFIX,
    max_receive_count: int = deployment.MAX_RECEIVE_COUNT,
) -> dict[str, str]:
    """Create tables, queue + DLQ and bucket; return the environment the handlers read."""
    names = StackNames.for_prefix(prefix)
    session = boto3.session.Session(region_name=region)
    dynamodb = session.client("dynamodb", endpoint_url=endpoint_url)
    create_job_tables(dynamodb, names.jobs_table, names.generations_table)
    create_oauth_table(dynamodb, names.oauth_table)
    queues = create_queues(
        session.client("sqs", endpoint_url=endpoint_url),
        names.queue,
        visibility_timeout_seconds=deployment.visibility_timeout_seconds(),
        max_receive_count=max_receive_count,
    )
    create_bucket(session.client("s3", endpoint_url=endpoint_url), names.bucket, public_read=True)
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_DEFAULT_REGION": region,
        schema.ENV_JOBS_TABLE: names.jobs_table,
        schema.ENV_GENERATIONS_TABLE: names.generations_table,
        schema.ENV_OAUTH_TABLE: names.oauth_table,
        schema.ENV_QUEUE_URL: queues.queue_url,
        schema.ENV_R2_BUCKET: names.bucket,
        schema.ENV_MAX_RECEIVE_COUNT: str(max_receive_count),
    }


def bootstrap_aws_command(
    endpoint_url: Annotated[
        str | None,
        typer.Option(envvar="AWS_ENDPOINT_URL", help="AWS-compatible endpoint: moto server, LocalStack"),
    ] = None,
    region: Annotated[str, typer.Option(envvar="AWS_DEFAULT_REGION", help="Region name")] = "us-east-1",
    prefix: Annotated[str, typer.Option(help="Resource name prefix")] = DEFAULT_PREFIX,
    max_receive_count: Annotated[
        int, typer.Option(help="Deliveries before a message goes to the DLQ")
    ] = deployment.MAX_RECEIVE_COUNT,
) -> None:
    """Create the DynamoDB tables, SQS queue + DLQ and image bucket on a local AWS-compatible endpoint."""
    if not endpoint_url:
        console.print(
            "[red]error:[/] set AWS_ENDPOINT_URL (or --endpoint-url) to a moto server or LocalStack. "
            "Real AWS resources are created by the CDK app (make deploy)."
        )
        raise typer.Exit(2)
    for name, value in EMULATOR_CREDENTIALS.items():
        os.environ.setdefault(name, value)  # emulators accept any key; boto3 refuses to sign without one
    environment = bootstrap(endpoint_url, region, prefix, max_receive_count)
    console.print(f"[green]Created[/] tables, queue + DLQ and bucket at {endpoint_url}.")
    console.print("Run the server on them with: [bold]imagegen serve --backend aws[/]   (environment:)")
    for name, value in environment.items():
        out.print(f"export {name}={value}", highlight=False, soft_wrap=True)
