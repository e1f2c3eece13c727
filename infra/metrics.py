"""The worker's own metrics as the alarms and the dashboard read them.

Names, namespace and dimensions come from `imagegen.observability`, the module that emits them, so a
renamed metric cannot leave an alarm watching a series nobody writes.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch

from imagegen.observability import METRIC_NAMESPACE, WORKER_SERVICE, MetricDimension, MetricName


def job_total(name: str, period: Duration) -> cloudwatch.Metric:
    """A job count summed over every model and reason: the service-wide series the worker publishes."""
    return cloudwatch.Metric(
        namespace=METRIC_NAMESPACE,
        metric_name=name,
        dimensions_map={MetricDimension.SERVICE: WORKER_SERVICE},
        statistic=cloudwatch.Stats.SUM,
        period=period,
    )


def failures_by_reason(period: Duration) -> cloudwatch.MathExpression:
    """Failed jobs per reason, summed over models.

    A Metrics Insights query, because SEARCH cannot group: it would draw one line per model and reason.
    SCHEMA with exactly the model and reason dimensions leaves the service-wide total out, so nothing is
    counted twice.
    """
    reason = MetricDimension.REASON
    return cloudwatch.MathExpression(
        # S608: a Metrics Insights query built from our own constants; no input reaches it.
        expression=(
            f"SELECT SUM({MetricName.JOBS_FAILED}) "  # noqa: S608
            f'FROM SCHEMA("{METRIC_NAMESPACE}", {MetricDimension.MODEL}, {reason}) GROUP BY {reason}'
        ),
        label="",  # CloudWatch names each line after its reason
        period=period,
    )


def generation_latency_by_model(statistic: str, period: Duration) -> cloudwatch.MathExpression:
    """One line per model that generated in the window. SEARCH, since Metrics Insights has no percentiles;
    the schema {namespace, model} matches the per-model series only."""
    search = f'{{{METRIC_NAMESPACE},{MetricDimension.MODEL}}} MetricName="{MetricName.GENERATION_LATENCY}"'
    return cloudwatch.MathExpression(
        expression=f"SEARCH('{search}', '{statistic}', {int(period.to_seconds())})",
        label="",  # SEARCH names each line after its model
        period=period,
    )
