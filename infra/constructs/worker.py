"""The image worker: drains the job queue, calls Workers AI, stores images in R2."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from imagegen.runtime import deployment
from infra.constructs.functions import PythonFunction, SharedCode


class Worker(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        shared: SharedCode,
        queue: sqs.IQueue,
        max_receive_count: int,
        environment: Mapping[str, str],
        log_retention: logs.RetentionDays,
        reserved_concurrency: int,
        batch_size: int,
        max_concurrency: int,
        tracing: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self.handler = PythonFunction(
            self,
            "Worker",
            shared=shared,
            handler=deployment.WORKER_HANDLER,
            description="imagegen worker: queued job -> Workers AI -> R2 -> DynamoDB",
            # Covers the slowest catalog model's slowest expected generation (deployment module).
            timeout=Duration.seconds(deployment.worker_timeout_seconds()),
            memory_size=deployment.WORKER_MEMORY_MB,
            environment=deployment.worker_environment(environment, max_receive_count=max_receive_count),
            log_retention=log_retention,
            tracing=tracing,
            reserved_concurrent_executions=reserved_concurrency or None,
        )
        self.function = self.handler.function
        # maxConcurrency bounds the worker without reserving concurrency (a reservation fails the deploy
        # on accounts whose quota is 10), and stays at or below a reservation when one is made: a
        # throttled invocation would count as a receive and walk healthy messages towards the DLQ. The
        # handler runs a batch's records concurrently, so jobs of one batch share one invocation's
        # duration; with no batching window a lone job still starts at once.
        self.function.add_event_source(
            event_sources.SqsEventSource(
                queue,
                batch_size=batch_size,
                max_batching_window=Duration.seconds(0),
                max_concurrency=max_concurrency,
                report_batch_item_failures=True,
            )
        )
