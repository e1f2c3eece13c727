"""The deployed stack on one machine: what `cdk deploy` builds, run against an AWS-compatible endpoint.

API Gateway (`HttpApiGateway`) in front of the API function, the worker function behind the SQS event
source, each function a pool of execution environments (`LambdaFunction`) running the real handlers,
configured with the environment the CDK app gives them (`runtime.deployment`), the credentials in a
Secrets Manager secret, and DynamoDB, SQS and an S3 bucket (standing in for R2) on the endpoint: moto's
server, LocalStack, or anything else that speaks those APIs.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import boto3

from imagegen.adapters.aws.provision import (
    create_bucket,
    create_job_tables,
    create_oauth_table,
    create_queues,
    put_secret,
)
from imagegen.emulator.api_gateway import INTEGRATION_TIMEOUT_SECONDS, CorsConfig, HttpApiGateway
from imagegen.emulator.lambda_service import (
    DEFAULT_ACCOUNT_CONCURRENCY,
    ConcurrencyQuota,
    FunctionConfig,
    LambdaFunction,
    LogSink,
    log_to_logger,
)
from imagegen.emulator.sqs_event_source import SqsEventSource
from imagegen.runtime import deployment
from imagegen.web.routes import CORS_ALLOW_HEADERS, CORS_EXPOSE_HEADERS, MCP_PATH

logger = logging.getLogger(__name__)

EMULATOR_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
# Settings of the local machine that reach the functions as they would through the stack's configuration.
PASSTHROUGH_PREFIXES = ("WORKERS_AI_", "AI_GATEWAY_")
PASSTHROUGH_NAMES = (
    "PREVIEW_LATENCY_SECONDS",
    "LOG_LEVEL",
    "POWERTOOLS_LOG_LEVEL",
    "POWERTOOLS_DEV",
    "CLIENT_LIMITS",
    "CLIENT_METADATA_TIMEOUT_SECONDS",
    "CLIENT_METADATA_PRIVATE_HOSTS",
    "CLIENT_METADATA_CA_FILE",
)


@dataclass(frozen=True)
class StackNames:
    jobs_table: str
    generations_table: str
    oauth_table: str
    queue: str
    bucket: str
    secret: str

    @classmethod
    def for_prefix(cls, prefix: str) -> StackNames:
        return cls(
            jobs_table=f"{prefix}-jobs",
            generations_table=f"{prefix}-generations",
            oauth_table=f"{prefix}-oauth",
            queue=f"{prefix}-jobs",
            bucket=f"{prefix}-images",
            secret=f"{prefix}/credentials",
        )


@dataclass(frozen=True)
class StackConfig:
    endpoint_url: str
    domain_names: Sequence[str]
    credentials: Mapping[str, str]
    region: str = "us-east-1"
    names: StackNames = field(default_factory=lambda: StackNames.for_prefix("imagegen"))
    cloudflare_account_id: str | None = None
    r2_public_base_url: str | None = None
    use_real_r2: bool = False
    allowed_origins: Sequence[str] = ()
    account_concurrency: int = DEFAULT_ACCOUNT_CONCURRENCY
    integration_timeout: float = INTEGRATION_TIMEOUT_SECONDS
    api_timeout_seconds: float = deployment.API_TIMEOUT_SECONDS
    worker_timeout_seconds: float = field(default_factory=deployment.worker_timeout_seconds)
    worker_batch_size: int = deployment.DEFAULT_WORKER_BATCH_SIZE
    max_receive_count: int = deployment.MAX_RECEIVE_COUNT
    extra_environment: Mapping[str, str] = field(default_factory=dict)

    @property
    def public_base_url(self) -> str:
        return self.r2_public_base_url or f"{self.endpoint_url.rstrip('/')}/{self.names.bucket}"


def passthrough_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    source = os.environ if environ is None else environ
    return {
        name: value
        for name, value in source.items()
        if name.startswith(PASSTHROUGH_PREFIXES) or name in PASSTHROUGH_NAMES
    }


class EmulatedStack:
    def __init__(self, config: StackConfig, *, log: LogSink = log_to_logger) -> None:
        self.config = config
        keys = _session_credentials()
        session = boto3.session.Session(
            aws_access_key_id=keys.get("aws_access_key_id"),
            aws_secret_access_key=keys.get("aws_secret_access_key"),
            region_name=config.region,
        )
        self.sqs = session.client("sqs", endpoint_url=config.endpoint_url)
        self.dynamodb = session.client("dynamodb", endpoint_url=config.endpoint_url)
        self.s3 = session.client("s3", endpoint_url=config.endpoint_url)
        self.secrets = session.client("secretsmanager", endpoint_url=config.endpoint_url)
        names = config.names
        create_job_tables(self.dynamodb, names.jobs_table, names.generations_table)
        create_oauth_table(self.dynamodb, names.oauth_table)
        queues = create_queues(
            self.sqs,
            names.queue,
            visibility_timeout_seconds=deployment.visibility_timeout_seconds(),
            max_receive_count=config.max_receive_count,
        )
        self.queue_url, self.dlq_url = queues.queue_url, queues.dlq_url
        if not config.use_real_r2:
            create_bucket(self.s3, names.bucket, public_read=True)
        self.secret_arn = put_secret(self.secrets, names.secret, config.credentials)

        quota = ConcurrencyQuota(config.account_concurrency)
        shared = self._shared_environment()
        self.api = self._function(
            "mcp_api",
            deployment.API_HANDLER,
            config.api_timeout_seconds,
            deployment.API_MEMORY_MB,
            deployment.api_environment(
                shared,
                oauth_table=names.oauth_table,
                public_url=f"http://{config.domain_names[0]}",
                domain_names=list(config.domain_names),
                # The local names are served over plain HTTP, so their origins are http://.
                allowed_origins=[
                    *(f"http://{name}" for name in config.domain_names),
                    *config.allowed_origins,
                ],
            ),
            quota,
            log,
        )
        self.worker = self._function(
            "image_worker",
            deployment.WORKER_HANDLER,
            config.worker_timeout_seconds,
            deployment.WORKER_MEMORY_MB,
            deployment.worker_environment(shared, max_receive_count=config.max_receive_count),
            quota,
            log,
        )
        cors = (
            CorsConfig(
                allow_origins=tuple(config.allowed_origins),
                allow_headers=CORS_ALLOW_HEADERS,
                expose_headers=CORS_EXPOSE_HEADERS,
            )
            if config.allowed_origins
            else None
        )
        self.gateway = HttpApiGateway(
            deployment.API_ROUTES,
            self.api,
            domain_names=config.domain_names,
            integration_timeout=config.integration_timeout,
            cors=cors,
            on_shutdown=self.close,
        )
        self.event_source = SqsEventSource(
            self.sqs,
            self.queue_url,
            self.worker,
            region=config.region,
            batch_size=config.worker_batch_size,
            maximum_concurrency=deployment.worker_max_concurrency(config.worker_batch_size),
        )
        self._closed = False

    def _function(
        self,
        name: str,
        handler: str,
        timeout_seconds: float,
        memory_mb: int,
        environment: dict[str, str],
        quota: ConcurrencyQuota,
        log: LogSink,
    ) -> LambdaFunction:
        config = FunctionConfig(
            name=name,
            handler=handler,
            timeout_seconds=timeout_seconds,
            memory_mb=memory_mb,
            environment=environment,
            region=self.config.region,
        )
        return LambdaFunction(config, quota=quota, log=log)

    def _shared_environment(self) -> dict[str, str]:
        config = self.config
        environment = deployment.shared_environment(
            jobs_table=config.names.jobs_table,
            generations_table=config.names.generations_table,
            queue_url=self.queue_url,
            r2_bucket=config.names.bucket,
            r2_public_base_url=config.public_base_url,
            cloudflare_account_id=config.cloudflare_account_id,
            r2_jurisdiction=None,
            secret_arn=self.secret_arn,
        )
        local: dict[str, Any] = {
            "AWS_ENDPOINT_URL": config.endpoint_url,
            **EMULATOR_CREDENTIALS,
            # No X-Ray daemon and no CloudWatch here: tracing off, metrics not printed.
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
        }
        if not config.use_real_r2:
            # The endpoint's S3 stands in for R2 and serves the objects itself.
            local["R2_ENDPOINT_URL"] = config.endpoint_url
        return {**environment, **local, **passthrough_environment(), **config.extra_environment}

    @property
    def mcp_url(self) -> str:
        return f"http://{self.config.domain_names[0]}{MCP_PATH}"

    def start(self) -> None:
        self.event_source.start()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.event_source.stop()
        self.api.close()
        self.worker.close()


def _session_credentials() -> dict[str, str]:
    # Emulators accept any key; boto3 refuses to sign without one.
    if os.environ.get("AWS_ACCESS_KEY_ID"):
        return {}
    return {
        "aws_access_key_id": EMULATOR_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    }
