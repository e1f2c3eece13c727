"""The imagegen stack: wires the constructs together and publishes what operators and tools look up."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack, Tags
from aws_cdk import aws_logs as logs
from constructs import Construct

from imagegen.runtime import deployment
from infra.config import LOG_RETENTION_DAYS, DeployConfig
from infra.constructs.api import McpApi
from infra.constructs.dashboard import OperationsDashboard
from infra.constructs.data import DataTables
from infra.constructs.functions import SharedCode
from infra.constructs.monitoring import Monitoring
from infra.constructs.queue import JobQueue
from infra.constructs.secrets import Credentials
from infra.constructs.worker import Worker
from infra.outputs import Outputs

_R = logs.RetentionDays
# CloudWatch's periods in config.LOG_RETENTION_DAYS order; the CDK enum is keyed by name, not by days.
RETENTION = dict(
    zip(
        LOG_RETENTION_DAYS,
        (
            _R.ONE_DAY, _R.THREE_DAYS, _R.FIVE_DAYS, _R.ONE_WEEK, _R.TWO_WEEKS, _R.ONE_MONTH,
            _R.TWO_MONTHS, _R.THREE_MONTHS, _R.FOUR_MONTHS, _R.FIVE_MONTHS, _R.SIX_MONTHS, _R.ONE_YEAR,
            _R.THIRTEEN_MONTHS, _R.EIGHTEEN_MONTHS, _R.TWO_YEARS, _R.THREE_YEARS, _R.FIVE_YEARS,
            _R.SIX_YEARS, _R.SEVEN_YEARS, _R.EIGHT_YEARS, _R.NINE_YEARS, _R.TEN_YEARS,
        ),
        strict=True,
    )
)  # fmt: skip


class ImagegenStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: DeployConfig) -> None:
        super().__init__(
            scope,
            construct_id,
            description=f"imagegen remote MCP server for AI image generation ({config.stage})",
        )
        Tags.of(self).add("project", "imagegen")
        Tags.of(self).add("stage", config.stage)
        retention = RETENTION[config.log_retention_days]

        data = DataTables(self, "Data", retain=config.retain_data)
        jobs = JobQueue(self, "Jobs", max_receive_count=deployment.MAX_RECEIVE_COUNT)
        credentials = Credentials(self, "Credentials", stage=config.stage)
        shared = SharedCode(self, "Code", layer_path=config.layer_path)

        environment = deployment.shared_environment(
            jobs_table=data.jobs.table_name,
            generations_table=data.generations.table_name,
            queue_url=jobs.queue.queue_url,
            r2_bucket=config.r2_bucket,
            r2_public_base_url=config.r2_public_base_url,
            cloudflare_account_id=config.cloudflare_account_id,
            r2_jurisdiction=config.r2_jurisdiction,
            secret_arn=credentials.secret.secret_arn,
        )
        api = McpApi(
            self,
            "Mcp",
            config=config,
            shared=shared,
            environment=environment,
            oauth_table=data.oauth.table_name,
            log_retention=retention,
            tracing=config.tracing,
        )
        worker = Worker(
            self,
            "Images",
            shared=shared,
            queue=jobs.queue,
            max_receive_count=jobs.max_receive_count,
            environment=environment,
            log_retention=retention,
            reserved_concurrency=config.worker_reserved_concurrency,
            batch_size=config.worker_batch_size,
            max_concurrency=config.worker_max_concurrency,
            tracing=config.tracing,
        )

        # The API submits, lists, cancels and deletes; the worker claims, completes and fails.
        data.grant_api(api.function)
        data.grant_oauth(api.function)
        data.grant_worker(worker.function)
        for function in (api.function, worker.function):
            credentials.grant_read(function)
        jobs.grant_send(api.function)

        monitoring = Monitoring(
            self,
            "Monitoring",
            stage=config.stage,
            job_queue=jobs.queue,
            dead_letter_queue=jobs.dead_letter_queue,
            worker=worker.function,
            api=api.http_api,
            alarm_email=config.alarm_email,
        )
        dashboard = OperationsDashboard(
            self,
            "Operations",
            stack_name=config.stack_name,
            monitoring=monitoring,
            job_queue=jobs.queue,
            dead_letter_queue=jobs.dead_letter_queue,
            worker=worker.function,
            api=api.http_api,
        )

        self.shared = shared
        self.api = api
        self.worker = worker
        self.data = data
        self.jobs = jobs
        self.credentials = credentials
        self.monitoring = monitoring
        self.dashboard = dashboard

        self._output(
            Outputs.MCP_URL,
            api.mcp_url,
            "Add this URL to Claude, ChatGPT or VS Code (OAuth), or to any client with the bearer token.",
        )
        self._output(Outputs.API_URL, api.base_url, "Base URL: GET / and /health answer here.")
        self._output(Outputs.API_FUNCTION_NAME, api.function.function_name)
        self._output(Outputs.API_LOG_GROUP, api.handler.log_group.log_group_name)
        self._output(Outputs.API_ACCESS_LOG_GROUP, api.access_logs.log_group_name)
        self._output(Outputs.WORKER_FUNCTION_NAME, worker.function.function_name)
        self._output(Outputs.WORKER_LOG_GROUP, worker.handler.log_group.log_group_name)
        self._output(Outputs.JOBS_TABLE, data.jobs.table_name)
        self._output(Outputs.GENERATIONS_TABLE, data.generations.table_name)
        self._output(Outputs.OAUTH_TABLE, data.oauth.table_name)
        self._output(Outputs.QUEUE_URL, jobs.queue.queue_url)
        self._output(Outputs.DEAD_LETTER_QUEUE_URL, jobs.dead_letter_queue.queue_url)
        self._output(
            Outputs.SECRET_ARN,
            credentials.secret.secret_arn,
            "Credentials (JSON). AUTH_TOKEN was generated at deploy; set the Cloudflare and R2 keys.",
        )
        self._output(
            Outputs.ALARM_TOPIC_ARN,
            monitoring.topic.topic_arn,
            "Every alarm notifies this topic: subscribe e-mail, chat or a webhook to it.",
        )
        self._output(Outputs.DASHBOARD_NAME, dashboard.dashboard.dashboard_name, "CloudWatch dashboard.")
        if api.domain_name is not None:
            self._output(
                Outputs.CUSTOM_DOMAIN_TARGET,
                api.domain_name.regional_domain_name,
                f"CNAME {config.custom_domain} to this name.",
            )

    def _output(self, key: str, value: str, description: str | None = None) -> None:
        # Declared on the stack, not inside constructs, so each logical id is exactly the key.
        CfnOutput(self, key, value=value, description=description)
