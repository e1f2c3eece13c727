"""What a worker delivery publishes as metrics (EMF): the breakdowns dashboards draw and the totals alarms watch."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from aws_lambda_powertools import Logger, Metrics

from imagegen.domain.errors import ReasonCode
from imagegen.observability import (
    METRIC_NAMESPACE,
    WORKER_SERVICE,
    MetricDimension,
    MetricName,
    record_delivery,
)
from imagegen.services.delivery import Disposition, Verdict
from imagegen.services.worker import Outcome, ProcessResult

MODEL = "flux-schnell"


def _documents(output: str) -> list[dict[str, Any]]:
    lines = (json.loads(line) for line in output.splitlines() if line.startswith("{"))
    return [line for line in lines if "_aws" in line]


def _published(capsys: pytest.CaptureFixture[str], verdict: Verdict) -> list[tuple[str, dict[str, str]]]:
    """(metric name, dimensions) of every EMF document one delivery wrote."""
    capsys.readouterr()
    record_delivery(
        # Not the worker's logger: Powertools loggers are shared by name, and one bound to this test's
        # captured stdout would write to a closed stream in later tests.
        Logger(service="metrics-test", logger_handler=logging.NullHandler()),
        Metrics(namespace=METRIC_NAMESPACE, service=WORKER_SERVICE),
        verdict,
        delivery_count=1,
    )
    published = []
    for document in _documents(capsys.readouterr().out):
        [directive] = document["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == METRIC_NAMESPACE
        [dimension_names] = directive["Dimensions"]
        for metric in directive["Metrics"]:
            published.append((metric["Name"], {name: document[name] for name in dimension_names}))
    return published


def test_a_failed_job_is_counted_by_model_and_reason_and_in_the_service_total(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a delivery whose job failed because the provider flagged the prompt
    result = ProcessResult(
        job_id="j1", outcome=Outcome.FAILED, reason=ReasonCode.CONTENT_FILTERED.value, model=MODEL
    )

    # When it is recorded
    published = _published(capsys, Verdict(Disposition.ACKNOWLEDGE, result))

    # Then the failure appears once per breakdown and once in the total the alarms watch
    assert published == [
        (
            MetricName.JOBS_FAILED,
            {MetricDimension.MODEL: MODEL, MetricDimension.REASON: ReasonCode.CONTENT_FILTERED.value},
        ),
        (MetricName.JOBS_FAILED, {MetricDimension.SERVICE: WORKER_SERVICE}),
    ]


def test_a_completed_job_is_counted_in_the_total_and_its_latency_only_per_model(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = ProcessResult(job_id="j1", outcome=Outcome.COMPLETED, model=MODEL, provider_seconds=1.5)

    published = _published(capsys, Verdict(Disposition.ACKNOWLEDGE, result))

    assert published == [
        (MetricName.JOBS_COMPLETED, {MetricDimension.MODEL: MODEL}),
        (MetricName.JOBS_COMPLETED, {MetricDimension.SERVICE: WORKER_SERVICE}),
        (MetricName.GENERATION_LATENCY, {MetricDimension.MODEL: MODEL}),
    ]


def test_a_job_failed_on_its_last_delivery_counts_as_failed_with_the_reason_given_up_on(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given the worker crashed on the queue's last delivery, so the policy failed the job itself
    verdict = Verdict(Disposition.ACKNOWLEDGE, None, gave_up=ReasonCode.INTERNAL_ERROR)

    published = _published(capsys, verdict)

    assert published == [
        (
            MetricName.JOBS_FAILED,
            {MetricDimension.MODEL: "unknown", MetricDimension.REASON: "internal_error"},
        ),
        (MetricName.JOBS_FAILED, {MetricDimension.SERVICE: WORKER_SERVICE}),
    ]
