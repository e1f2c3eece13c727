"""Alarms for what needs a human: jobs stuck in the dead-letter queue, worker crashes, API 5xx."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.nag import acknowledge

PERIOD = Duration.minutes(5)


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        dead_letter_queue: sqs.IQueue,
        worker: lambda_.IFunction,
        api: apigwv2.HttpApi,
        alarm_email: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic: sns.Topic | None = None
        if alarm_email:
            self.topic = sns.Topic(
                self, "AlarmTopic", display_name=f"imagegen {stage} alarms", enforce_ssl=True
            )
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
            acknowledge(
                self.topic,
                "AwsSolutions-SNS2",
                "CloudWatch alarms cannot publish to a topic encrypted with the AWS managed SNS "
                "key, and the messages carry only alarm names and states; a customer managed key "
                "would add $1/month to a stack that otherwise costs cents at rest.",
            )

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

    @property
    def alarms(self) -> tuple[cloudwatch.Alarm, ...]:
        return self.dead_letters, self.worker_errors, self.api_errors

    def _alarm(self, construct_id: str, metric: cloudwatch.IMetric, description: str) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        if self.topic is not None:
            alarm.add_alarm_action(actions.SnsAction(self.topic))
            alarm.add_ok_action(actions.SnsAction(self.topic))
        return alarm
