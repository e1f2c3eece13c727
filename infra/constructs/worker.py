"""The image worker: drains the job queue, calls Workers AI, stores images in R2."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from imagegen.adapters.aws import schema
from infra.constructs.functions import PythonFunction, SharedCode

HANDLER = "image_worker.handler.lambda_handler"
# One generation may take the provider's 60 s timeout plus its retry budget; two minutes leaves room
# for the R2 upload and the final DynamoDB transaction.
TIMEOUT = Duration.seconds(120)
MEMORY_MB = 1024


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
            handler=HANDLER,
            description="imagegen worker: queued job -> Workers AI -> R2 -> DynamoDB",
            timeout=TIMEOUT,
            memory_size=MEMORY_MB,
            # The handler marks a job failed on the delivery the redrive policy will not repeat.
            environment={**environment, schema.ENV_MAX_RECEIVE_COUNT: str(max_receive_count)},
            log_retention=log_retention,
            tracing=tracing,
            reserved_concurrent_executions=reserved_concurrency or None,
        )
        self.function = self.handler.function
        # maxConcurrency keeps the poller at or below the reservation: a throttled invocation would
        # count as a receive and walk healthy messages towards the dead-letter queue. The handler runs a
        # batch's records concurrently, so jobs of one batch share one invocation's duration; with no
        # batching window a lone job still starts at once.
        self.function.add_event_source(
            event_sources.SqsEventSource(
                queue,
                batch_size=batch_size,
                max_batching_window=Duration.seconds(0),
                max_concurrency=max_concurrency,
                report_batch_item_failures=True,
            )
        )
