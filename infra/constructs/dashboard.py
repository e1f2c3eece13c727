"""One CloudWatch dashboard: the alarms' states, jobs, failures by reason, latency, the queue and the API."""

from __future__ import annotations

from aws_cdk import Aws, Duration
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from imagegen.observability import MetricName
from infra.constructs.monitoring import OLDEST_MESSAGE_AGE_SECONDS, Monitoring
from infra.metrics import failures_by_reason, generation_latency_by_model, job_total

# Rates read per minute; breakdowns and latencies need a few jobs per point to say anything.
PER_MINUTE = Duration.minutes(1)
BREAKDOWN_PERIOD = Duration.minutes(5)
WIDTH = 24  # the dashboard grid's full width
HEIGHT = 6


class OperationsDashboard(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stack_name: str,
        monitoring: Monitoring,
        job_queue: sqs.IQueue,
        dead_letter_queue: sqs.IQueue,
        worker: lambda_.IFunction,
        api: apigwv2.HttpApi,
    ) -> None:
        super().__init__(scope, construct_id)
        half, third = WIDTH // 2, WIDTH // 3
        # Dashboard names are unique per account, not per region: the region keeps two deployments of one
        # stage apart.
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"{stack_name}-{Aws.REGION}",
            default_interval=Duration.hours(3),
        )
        self.dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(
                title="Alarms", alarms=list(monitoring.alarms), width=WIDTH, height=3
            )
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Jobs per minute",
                left=[
                    job_queue.metric_number_of_messages_sent(
                        period=PER_MINUTE, statistic=cloudwatch.Stats.SUM, label="Submitted"
                    ),
                    job_total(MetricName.JOBS_COMPLETED, PER_MINUTE).with_(label="Completed"),
                    job_total(MetricName.JOBS_FAILED, PER_MINUTE).with_(label="Failed"),
                    job_total(MetricName.JOBS_RETRIED, PER_MINUTE).with_(label="Retried"),
                ],
                width=half,
                height=HEIGHT,
            ),
            cloudwatch.GraphWidget(
                title="Failed jobs by reason",
                left=[failures_by_reason(BREAKDOWN_PERIOD)],
                period=BREAKDOWN_PERIOD,  # a Metrics Insights query takes the widget's period
                stacked=True,
                width=half,
                height=HEIGHT,
            ),
        )
        self.dashboard.add_widgets(
            *(
                cloudwatch.GraphWidget(
                    title=f"Generation latency per model, p{percentile} (s)",
                    left=[generation_latency_by_model(cloudwatch.Stats.p(percentile), BREAKDOWN_PERIOD)],
                    width=half,
                    height=HEIGHT,
                )
                for percentile in (50, 90)
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Job queue",
                left=[
                    job_queue.metric_approximate_number_of_messages_visible(
                        period=PER_MINUTE, statistic=cloudwatch.Stats.MAXIMUM, label="Waiting"
                    ),
                    job_queue.metric_approximate_number_of_messages_not_visible(
                        period=PER_MINUTE, statistic=cloudwatch.Stats.MAXIMUM, label="In flight"
                    ),
                    dead_letter_queue.metric_approximate_number_of_messages_visible(
                        period=PER_MINUTE, statistic=cloudwatch.Stats.MAXIMUM, label="Dead letters"
                    ),
                ],
                width=half,
                height=HEIGHT,
            ),
            cloudwatch.GraphWidget(
                title="Oldest job message (s)",
                left=[
                    job_queue.metric_approximate_age_of_oldest_message(
                        period=PER_MINUTE, statistic=cloudwatch.Stats.MAXIMUM, label="Age"
                    )
                ],
                left_annotations=[
                    cloudwatch.HorizontalAnnotation(value=OLDEST_MESSAGE_AGE_SECONDS, label="Alarm")
                ],
                width=half,
                height=HEIGHT,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="API requests per minute",
                left=[
                    api.metric_count(period=PER_MINUTE, statistic=cloudwatch.Stats.SUM, label="Requests"),
                    api.metric_client_error(period=PER_MINUTE, statistic=cloudwatch.Stats.SUM, label="4xx"),
                    api.metric_server_error(period=PER_MINUTE, statistic=cloudwatch.Stats.SUM, label="5xx"),
                ],
                width=third,
                height=HEIGHT,
            ),
            cloudwatch.GraphWidget(
                title="API latency (ms)",
                left=[
                    api.metric_latency(
                        period=PER_MINUTE, statistic=cloudwatch.Stats.p(percentile), label=f"p{percentile}"
                    )
                    for percentile in (50, 90, 99)
                ],
                width=third,
                height=HEIGHT,
            ),
            cloudwatch.GraphWidget(
                title="Worker invocations per minute",
                left=[
                    worker.metric_invocations(
                        period=PER_MINUTE, statistic=cloudwatch.Stats.SUM, label="Invocations"
                    ),
                    worker.metric_errors(period=PER_MINUTE, statistic=cloudwatch.Stats.SUM, label="Errors"),
                    worker.metric_throttles(
                        period=PER_MINUTE, statistic=cloudwatch.Stats.SUM, label="Throttles"
                    ),
                ],
                width=third,
                height=HEIGHT,
            ),
        )
