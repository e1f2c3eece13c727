"""Alarms for what needs a human, and the SNS topic every one of them notifies.

The topic exists whether or not `alarm_email` is set: an alarm with nowhere to go is only a red light in
a console nobody watches, and a topic lets an operator subscribe chat, a pager or a webhook later without
a redeploy. The e-mail subscription is one optional subscriber.
"""

from __future__ import annotations

from aws_cdk import Aws, Duration
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from imagegen.observability import MetricName
from imagegen.runtime import deployment
from infra.metrics import job_total
from infra.nag import acknowledge

PERIOD = Duration.minutes(5)

# The job failure alarm fires when, within one period, at least MIN_FAILED_JOBS jobs failed and they were
# at least FAILED_SHARE_PERCENT of the jobs that finished. A share rather than a count, so the alarm means
# the same at one job an hour and at hundreds; the floor keeps one unlucky job out of a quiet period (one
# failure out of one finished job is 100%). A broken credential, a full R2 bucket or an exhausted
# Workers AI allocation fails every job; one model of three being down fails about a third. A batch
# whose prompt the provider flags also counts: the reason is on the dashboard.
MIN_FAILED_JOBS = 3
FAILED_SHARE_PERCENT = 25

# A job message is picked up within seconds while the worker keeps up, each attempt ends within one worker
# timeout, and a transient failure comes back after seconds of backoff; so a message one visibility timeout
# (six worker timeouts) old is waiting for a worker: a backlog beyond the event source's maximum
# concurrency, throttling, or a disabled event source. (SQS leaves messages received three times or more
# out of this metric; those end in the dead-letter queue, which has its own alarm.)
OLDEST_MESSAGE_AGE_SECONDS = deployment.visibility_timeout_seconds()


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        job_queue: sqs.IQueue,
        dead_letter_queue: sqs.IQueue,
        worker: lambda_.IFunction,
        api: apigwv2.HttpApi,
        alarm_email: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = self._topic(stage, alarm_email)

        self.dead_letters = self._alarm(
            "DeadLetterQueueNotEmpty",
            dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=PERIOD, statistic=cloudwatch.Stats.MAXIMUM
            ),
            "Jobs reached the dead-letter queue after every retry: read the worker logs, then redrive.",
        )
        self.worker_errors = self._alarm(
            "WorkerErrors",
            worker.metric_errors(period=PERIOD, statistic=cloudwatch.Stats.SUM),
            "The image worker crashed (not a reported job failure): its messages will be retried.",
        )
        self.api_errors = self._alarm(
            "ApiServerErrors",
            api.metric_server_error(period=PERIOD, statistic=cloudwatch.Stats.SUM),
            "The MCP API answered 5xx: function errors, timeouts or throttling.",
        )
        self.jobs_failing = self._alarm(
            "JobsFailing",
            cloudwatch.MathExpression(
                expression=(
                    f"IF(failed >= {MIN_FAILED_JOBS}, 100 * failed / (failed + FILL(completed, 0)), 0)"
                ),
                using_metrics={
                    "failed": job_total(MetricName.JOBS_FAILED, PERIOD),
                    "completed": job_total(MetricName.JOBS_COMPLETED, PERIOD),
                },
                label="Failed jobs, % of finished",
                period=PERIOD,
            ),
            f"At least {MIN_FAILED_JOBS} jobs failed in 5 minutes, {FAILED_SHARE_PERCENT}% or more of the "
            "jobs that finished. The dashboard's failures by reason tell a credential, storage or quota "
            "problem (every job) from flagged prompts (one caller).",
            threshold=FAILED_SHARE_PERCENT,
        )
        self.queue_backlog = self._alarm(
            "JobQueueBacklog",
            job_queue.metric_approximate_age_of_oldest_message(
                period=PERIOD, statistic=cloudwatch.Stats.MAXIMUM
            ),
            f"A job has waited over {OLDEST_MESSAGE_AGE_SECONDS} s in the queue: the worker is not keeping "
            "up or not consuming (throttles, a disabled event source, an account concurrency limit).",
            threshold=OLDEST_MESSAGE_AGE_SECONDS,
        )
        self.worker_throttles = self._alarm(
            "WorkerThrottles",
            worker.metric_throttles(period=PERIOD, statistic=cloudwatch.Stats.SUM),
            "The image worker was throttled: the account's concurrency is used up (waiting API calls hold "
            "it) or a reservation is too small. Each throttled delivery counts as a receive and walks a "
            "healthy job towards the dead-letter queue.",
        )

    @property
    def alarms(self) -> tuple[cloudwatch.Alarm, ...]:
        return (
            self.dead_letters,
            self.worker_errors,
            self.api_errors,
            self.jobs_failing,
            self.queue_backlog,
            self.worker_throttles,
        )

    def _topic(self, stage: str, alarm_email: str | None) -> sns.Topic:
        topic = sns.Topic(self, "AlarmTopic", display_name=f"imagegen {stage} alarms", enforce_ssl=True)
        # enforce_ssl gives the topic a policy of its own, which replaces the default one that let
        # CloudWatch publish: without this statement every alarm action fails with "not authorized".
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublish",
                actions=["sns:Publish"],
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                resources=[topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                    "ArnLike": {
                        "aws:SourceArn": f"arn:{Aws.PARTITION}:cloudwatch:{Aws.REGION}:{Aws.ACCOUNT_ID}:alarm:*"
                    },
                },
            )
        )
        if alarm_email:
            topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        acknowledge(
            topic,
            "AwsSolutions-SNS2",
            "CloudWatch alarms cannot publish to a topic encrypted with the AWS managed SNS "
            "key, and the messages carry only alarm names and states; a customer managed key "
            "would add $1/month to a stack that otherwise costs cents at rest.",
        )
        return topic

    def _alarm(
        self,
        construct_id: str,
        metric: cloudwatch.IMetric,
        description: str,
        *,
        threshold: float = 1,
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            # Every metric here is sparse by nature (no jobs, no messages, no errors): silence is health.
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        # The OK notification closes the incident for whoever was told it opened.
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        alarm.add_ok_action(actions.SnsAction(self.topic))
        return alarm
