"""CLI commands for the AWS backend: `bootstrap-aws`, `logs`, and `serve --backend aws` (`serve_aws`).

`bootstrap-aws` and `serve --backend aws` work against any AWS-compatible endpoint (AWS_ENDPOINT_URL:
moto server, LocalStack); real deployments are built by the CDK app from the same schema. `logs` reads the
deployed stack's CloudWatch log groups through boto3, so no AWS CLI is needed.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from imagegen.adapters.aws import schema

if TYPE_CHECKING:
    from mypy_boto3_logs import CloudWatchLogsClient

    from imagegen.runtime.aws_local import ApiGatewayAdapter, SqsLambdaPoller
    from imagegen.settings import LocalSettings

logger = logging.getLogger(__name__)
console = Console(stderr=True)
out = Console()

DEFAULT_PREFIX = "imagegen"
DEFAULT_STACK = "imagegen-dev"
# Output keys of the CDK stack (infra/outputs.py); the deployed stack is found by these names.
API_LOG_GROUP_OUTPUT = "ApiLogGroupName"
WORKER_LOG_GROUP_OUTPUT = "WorkerLogGroupName"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


# ---------------------------------------------------------------- bootstrap


@dataclass(frozen=True)
class LocalNames:
    jobs_table: str
    generations_table: str
    queue: str
    bucket: str

    @classmethod
    def for_prefix(cls, prefix: str) -> LocalNames:
        return cls(
            jobs_table=f"{prefix}-jobs",
            generations_table=f"{prefix}-generations",
            queue=f"{prefix}-jobs",
            bucket=f"{prefix}-images",
        )


def bootstrap(
    endpoint_url: str, region: str, prefix: str = DEFAULT_PREFIX, max_receive_count: int = 5
) -> dict[str, str]:
    """Create tables, queue + DLQ and bucket; return the environment `serve --backend aws` needs."""
    import boto3

    from imagegen.adapters.aws.provision import create_bucket, create_job_tables, create_queues

    names = LocalNames.for_prefix(prefix)
    session = boto3.session.Session(region_name=region)
    create_job_tables(
        session.client("dynamodb", endpoint_url=endpoint_url), names.jobs_table, names.generations_table
    )
    queues = create_queues(
        session.client("sqs", endpoint_url=endpoint_url), names.queue, max_receive_count=max_receive_count
    )
    create_bucket(session.client("s3", endpoint_url=endpoint_url), names.bucket, public_read=True)
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_DEFAULT_REGION": region,
        schema.ENV_JOBS_TABLE: names.jobs_table,
        schema.ENV_GENERATIONS_TABLE: names.generations_table,
        schema.ENV_QUEUE_URL: queues.queue_url,
        schema.ENV_R2_BUCKET: names.bucket,
        schema.ENV_MAX_RECEIVE_COUNT: str(max_receive_count),
    }


def _emulator_credentials() -> None:
    # Emulators accept any key; boto3 refuses to sign without one.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")


# ---------------------------------------------------------------- serve --backend aws


@dataclass
class LocalAws:
    """The deployed handlers wired to local stand-ins for API Gateway and the SQS event source."""

    api: ApiGatewayAdapter
    poller: SqsLambdaPoller
    mcp_url: str


def prepare_environment(settings: LocalSettings, prefix: str = DEFAULT_PREFIX) -> None:
    """Fill in what the Lambda configuration would provide, from bootstrap's defaults and `settings`."""
    import boto3

    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        _emulator_credentials()
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    names = LocalNames.for_prefix(prefix)
    os.environ.setdefault(schema.ENV_JOBS_TABLE, names.jobs_table)
    os.environ.setdefault(schema.ENV_GENERATIONS_TABLE, names.generations_table)
    os.environ.setdefault(schema.ENV_R2_BUCKET, names.bucket)
    if schema.ENV_QUEUE_URL not in os.environ:
        sqs = boto3.client("sqs")
        os.environ[schema.ENV_QUEUE_URL] = sqs.get_queue_url(QueueName=names.queue)["QueueUrl"]
    has_r2 = os.environ.get(schema.SECRET_R2_ACCESS_KEY_ID) and os.environ.get(schema.ENV_R2_ACCOUNT_ID)
    if endpoint and not has_r2:
        # No R2 credentials: the emulator's S3 stands in for R2 and serves the objects itself.
        os.environ.setdefault("R2_ENDPOINT_URL", endpoint)
        bucket = os.environ[schema.ENV_R2_BUCKET]
        os.environ.setdefault(schema.ENV_R2_PUBLIC_BASE_URL, f"{endpoint.rstrip('/')}/{bucket}")
    hosts = [f"127.0.0.1:{settings.port}", f"localhost:{settings.port}", f"[::1]:{settings.port}"]
    os.environ.setdefault(schema.ENV_ALLOWED_HOSTS, ",".join([*hosts, *settings.allowed_hosts]))
    if settings.allowed_origins:
        os.environ.setdefault(schema.ENV_ALLOWED_ORIGINS, ",".join(settings.allowed_origins))
    # No X-Ray daemon or CloudWatch here: keep tracing off and metrics out of the console.
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")


def build_local_aws(settings: LocalSettings) -> LocalAws:
    import boto3

    import image_worker.handler as worker_handler
    import mcp_api.handler as api_handler
    from imagegen.runtime.aws_local import ApiGatewayAdapter, SqsLambdaPoller

    region = boto3.session.Session().region_name or "us-east-1"
    # API Gateway names the domain it served a request on; here that is the bound address.
    domain = f"{'127.0.0.1' if settings.host in ('0.0.0.0', '::') else settings.host}:{settings.port}"
    api = ApiGatewayAdapter(api_handler.lambda_handler, region=region, domain_name=domain)
    poller = SqsLambdaPoller(
        boto3.client("sqs"), os.environ[schema.ENV_QUEUE_URL], worker_handler.lambda_handler, region=region
    )
    return LocalAws(api=api, poller=poller, mcp_url=f"http://{domain}/mcp")


def serve_aws(settings: LocalSettings) -> None:
    """`imagegen serve --backend aws`: the real Lambda handlers behind a local HTTP server and SQS poller."""
    import uvicorn

    from imagegen.cli import print_client_configs, resolve_token

    token, is_new = resolve_token(settings)
    if token:
        os.environ.setdefault(schema.SECRET_AUTH_TOKEN, token)
    # Without a secret ARN the handlers read the secret's keys from the environment.
    if settings.auth_tokens:
        os.environ.setdefault(schema.SECRET_AUTH_TOKENS, settings.auth_tokens.get_secret_value())
    if settings.auth_tokens_file is not None:
        os.environ.setdefault(schema.SECRET_AUTH_TOKENS, settings.auth_tokens_file.read_text())
    if settings.admin_client:
        os.environ.setdefault(schema.SECRET_ADMIN_CLIENT, settings.admin_client)
    prepare_environment(settings)
    local = build_local_aws(settings)
    print_client_configs(local.mcp_url, token, is_new, settings.imagegen_data_dir)
    console.print(
        f"Backend: [bold]aws[/] at {os.environ.get('AWS_ENDPOINT_URL', 'AWS')}   "
        f"queue: {os.environ[schema.ENV_QUEUE_URL]}"
    )
    local.poller.start()
    try:
        uvicorn.run(
            local.api,
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level.lower(),
            server_header=False,
        )
    finally:
        local.poller.stop()


# ---------------------------------------------------------------- logs


def parse_since(value: str) -> timedelta:
    match = re.fullmatch(r"\s*(\d+)\s*([smhd])\s*", value)
    if not match:
        raise typer.BadParameter("use a number and a unit: 30s, 10m, 2h or 1d")
    amount, unit = int(match.group(1)), match.group(2)
    unit_name = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[unit]
    return timedelta(**{unit_name: amount})


def find_log_groups(cloudformation: Any, stack: str) -> dict[str, str]:
    """The functions' log groups, by short name, from the stack's outputs."""
    stacks = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    outputs = {item["OutputKey"]: item["OutputValue"] for item in stacks[0].get("Outputs", [])}
    groups = {
        name: outputs[key]
        for name, key in (("api", API_LOG_GROUP_OUTPUT), ("worker", WORKER_LOG_GROUP_OUTPUT))
        if key in outputs
    }
    if not groups:
        raise LookupError(f"stack {stack} has no {API_LOG_GROUP_OUTPUT} or {WORKER_LOG_GROUP_OUTPUT} output")
    return groups


@dataclass(frozen=True)
class LogLine:
    timestamp: int
    source: str
    event_id: str
    message: str

    @property
    def record(self) -> dict[str, Any] | None:
        try:
            parsed = json.loads(self.message)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None

    @property
    def level(self) -> str | None:
        record = self.record
        level = record.get("level") if record else None
        return str(level).upper() if level else None


def fetch_events(
    client: CloudWatchLogsClient, groups: Mapping[str, str], start_ms: int, pattern: str | None
) -> list[LogLine]:
    lines: list[LogLine] = []
    for source, group in groups.items():
        paginator = client.get_paginator("filter_log_events")
        request: dict[str, Any] = {"logGroupName": group, "startTime": start_ms}
        if pattern:
            request["filterPattern"] = pattern
        for page in paginator.paginate(**request):
            lines += [
                LogLine(
                    timestamp=int(event.get("timestamp", 0)),
                    source=source,
                    event_id=str(event.get("eventId", "")),
                    message=str(event.get("message", "")).rstrip("\n"),
                )
                for event in page.get("events", [])
            ]
    return sorted(lines, key=lambda line: (line.timestamp, line.event_id))


def passes_level(line: LogLine, minimum: str) -> bool:
    level = line.level
    if level is None:  # Lambda platform lines (START, END, REPORT) count as INFO
        level = "INFO"
    rank = LEVELS.index(level) if level in LEVELS else LEVELS.index("INFO")
    return rank >= LEVELS.index(minimum)


_LEVEL_STYLES = {
    "DEBUG": "dim",
    "INFO": "green",
    "WARNING": "yellow",
    "ERROR": "bold red",
    "CRITICAL": "bold red",
}
_HIDDEN_KEYS = {
    "level",
    "message",
    "timestamp",
    "location",
    "service",
    "cold_start",
    "function_name",
    "function_memory_size",
    "function_arn",
    "function_request_id",
    "xray_trace_id",
    "sampling_rate",
}


def render(line: LogLine) -> Text:
    moment = datetime.fromtimestamp(line.timestamp / 1000, UTC).strftime("%H:%M:%S.%f")[:-3]
    text = Text.assemble((moment, "dim"), " ", (f"{line.source:<6}", "cyan"), " ")
    record = line.record
    if record is None:
        return text.append(line.message, style="dim")
    level = line.level or "INFO"
    text.append(f"{level:<7}", style=_LEVEL_STYLES.get(level, ""))
    text.append(" ")
    text.append(str(record.get("message", "")), style="bold" if level in ("ERROR", "CRITICAL") else "")
    for key, value in record.items():
        if key in _HIDDEN_KEYS or value in (None, "", [], {}):
            continue
        shown = value if isinstance(value, str) else json.dumps(value, default=str)
        if key == "exception":
            text.append("\n" + str(shown), style="red")
            continue
        text.append(f"  {key}=", style="dim")
        text.append(str(shown)[:300], style="magenta" if key in ("job_id", "job_ids") else "")
    return text


def tail(
    client: CloudWatchLogsClient,
    groups: Mapping[str, str],
    *,
    since: timedelta,
    job_id: str | None,
    level: str,
    follow: bool,
    poll_seconds: float = 2.0,
    now: Any = time.time,
) -> Iterator[LogLine]:
    """Matching lines in time order; with `follow`, keep polling for new ones."""
    pattern = f'"{job_id}"' if job_id else None
    start_ms = int((now() - since.total_seconds()) * 1000)
    seen: set[str] = set()
    while True:
        for line in fetch_events(client, groups, start_ms, pattern):
            if line.event_id in seen or not passes_level(line, level):
                continue
            seen.add(line.event_id)
            start_ms = max(start_ms, line.timestamp)
            yield line
        if not follow:
            return
        time.sleep(poll_seconds)


# ---------------------------------------------------------------- commands


def register(app: typer.Typer) -> None:
    app.command("bootstrap-aws")(bootstrap_aws_command)
    app.command("logs")(logs_command)


def bootstrap_aws_command(
    endpoint_url: Annotated[
        str | None,
        typer.Option(envvar="AWS_ENDPOINT_URL", help="AWS-compatible endpoint: moto server, LocalStack"),
    ] = None,
    region: Annotated[str, typer.Option(envvar="AWS_DEFAULT_REGION", help="Region name")] = "us-east-1",
    prefix: Annotated[str, typer.Option(help="Resource name prefix")] = DEFAULT_PREFIX,
    max_receive_count: Annotated[int, typer.Option(help="Deliveries before a message goes to the DLQ")] = 5,
) -> None:
    """Create the DynamoDB tables, SQS queue + DLQ and image bucket on a local AWS-compatible endpoint."""
    if not endpoint_url:
        console.print(
            "[red]error:[/] set AWS_ENDPOINT_URL (or --endpoint-url) to a moto server or LocalStack. "
            "Real AWS resources are created by the CDK app (make deploy)."
        )
        raise typer.Exit(2)
    _emulator_credentials()
    environment = bootstrap(endpoint_url, region, prefix, max_receive_count)
    console.print(f"[green]Created[/] tables, queue + DLQ and bucket at {endpoint_url}.")
    console.print("Run the server on them with: [bold]imagegen serve --backend aws[/]   (environment:)")
    for name, value in environment.items():
        out.print(f"export {name}={value}", highlight=False, soft_wrap=True)


def logs_command(
    stack: Annotated[str, typer.Option(help="CloudFormation stack name (imagegen-<stage>)")] = DEFAULT_STACK,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new lines")] = False,
    since: Annotated[str, typer.Option(help="How far back to start: 30s, 10m, 2h, 1d")] = "10m",
    job_id: Annotated[str | None, typer.Option(help="Only lines that mention this job id")] = None,
    level: Annotated[str, typer.Option(help="Lowest level shown: DEBUG, INFO, WARNING, ERROR")] = "INFO",
    function: Annotated[str, typer.Option(help="api, worker or all")] = "all",
) -> None:
    """Tail the deployed functions' CloudWatch logs, pretty-printed (log groups from the stack outputs)."""
    import boto3

    minimum = level.upper()
    if minimum not in LEVELS:
        raise typer.BadParameter(f"level must be one of {', '.join(LEVELS)}")
    window = parse_since(since)
    try:
        groups = find_log_groups(boto3.client("cloudformation"), stack)
    except Exception as exc:
        console.print(f"[red]error:[/] could not read stack {stack}: {exc}")
        raise typer.Exit(1) from exc
    if function != "all":
        if function not in groups:
            raise typer.BadParameter(f"function must be one of all, {', '.join(groups)}")
        groups = {function: groups[function]}
    client = boto3.client("logs")
    try:
        for line in tail(client, groups, since=window, job_id=job_id, level=minimum, follow=follow):
            out.print(render(line), soft_wrap=True)
    except KeyboardInterrupt:
        return
