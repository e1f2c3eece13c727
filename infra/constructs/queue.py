"""The job queue between the API and the worker, with a dead-letter queue for poison messages."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from imagegen.runtime import deployment


class JobQueue(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, max_receive_count: int) -> None:
        super().__init__(scope, construct_id)
        self.max_receive_count = max_receive_count
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            # AWS's guidance for Lambda event sources: six times the function timeout, so a message is
            # not redelivered to a second worker while the first is still on it.
            visibility_timeout=Duration.seconds(deployment.visibility_timeout_seconds()),
            retention_period=Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(
                max_receive_count=max_receive_count, queue=self.dead_letter_queue
            ),
            removal_policy=RemovalPolicy.DESTROY,
        )

    def grant_send(self, grantee: iam.IGrantable) -> None:
        self.queue.grant_send_messages(grantee)
