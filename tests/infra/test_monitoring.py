"""Operations: the alarm topic, what each alarm watches, and the dashboard."""

from __future__ import annotations

import json
from typing import Any

import pytest
from infra.constructs.monitoring import FAILED_SHARE_PERCENT, MIN_FAILED_JOBS

from imagegen.observability import METRIC_NAMESPACE, WORKER_SERVICE, MetricDimension, MetricName
from imagegen.runtime import deployment
from tests.infra.conftest import Synth

FIVE_MINUTES = 300
SERVICE_TOTAL = [{"Name": MetricDimension.SERVICE, "Value": WORKER_SERVICE}]


def _alarms(synth: Synth) -> list[dict[str, Any]]:
    return [alarm["Properties"] for alarm in synth.resources("AWS::CloudWatch::Alarm").values()]


def _alarm_on(synth: Synth, namespace: str, metric_name: str) -> dict[str, Any]:
    """The one alarm that watches this metric directly (not through metric math)."""
    matches = [
        alarm
        for alarm in _alarms(synth)
        if alarm.get("Namespace") == namespace and alarm.get("MetricName") == metric_name
    ]
    assert len(matches) == 1, matches
    return matches[0]


def _topic_ref(synth: Synth) -> dict[str, str]:
    return {"Ref": synth.logical_id(synth.stack.monitoring.topic)}


def _queue_dimension(synth: Synth, queue: Any) -> list[dict[str, Any]]:
    return [{"Name": "QueueName", "Value": {"Fn::GetAtt": [synth.logical_id(queue), "QueueName"]}}]


def _token(value: dict[str, Any]) -> str:
    """A stand-in for a CloudFormation reference inside the dashboard body, named after its target."""
    if "Ref" in value:
        return str(value["Ref"])
    if "Fn::GetAtt" in value:
        return ".".join(value["Fn::GetAtt"])
    raise AssertionError(f"unexpected token in the dashboard body: {value}")


def _dashboard_widgets(synth: Synth) -> list[dict[str, Any]]:
    [dashboard] = synth.resources("AWS::CloudWatch::Dashboard").values()
    parts = dashboard["Properties"]["DashboardBody"]["Fn::Join"][1]
    body = "".join(part if isinstance(part, str) else _token(part) for part in parts)
    widgets: list[dict[str, Any]] = json.loads(body)["widgets"]
    return widgets


def _graphed(synth: Synth) -> list[list[Any]]:
    """Every metric line drawn on the dashboard: [namespace, name, dimension, value, ..., options]."""
    return [
        line
        for widget in _dashboard_widgets(synth)
        if widget["type"] == "metric"
        for line in widget["properties"]["metrics"]
    ]


def _expressions(synth: Synth) -> list[str]:
    return [line[0]["expression"] for line in _graphed(synth) if isinstance(line[0], dict)]


# ------------------------------------------------------------------------------------------------ topic


def test_given_no_alarm_email_then_an_alarm_topic_still_exists_with_no_subscription(
    default_synth: Synth,
) -> None:
    assert len(default_synth.resources("AWS::SNS::Topic")) == 1
    assert default_synth.resources("AWS::SNS::Subscription") == {}


def test_given_an_alarm_email_then_the_topic_has_that_email_subscription(full_synth: Synth) -> None:
    subscriptions = list(full_synth.resources("AWS::SNS::Subscription").values())

    assert [
        (s["Properties"]["Protocol"], s["Properties"]["Endpoint"], s["Properties"]["TopicArn"])
        for s in subscriptions
    ] == [("email", "ops@example.org", _topic_ref(full_synth))]


@pytest.mark.parametrize("synth_name", ["default_synth", "full_synth"])
def test_given_any_context_then_every_alarm_notifies_the_topic_when_it_fires_and_when_it_clears(
    synth_name: str, request: pytest.FixtureRequest
) -> None:
    synth: Synth = request.getfixturevalue(synth_name)

    alarms = _alarms(synth)

    assert len(alarms) == len(synth.stack.monitoring.alarms) == 6
    for alarm in alarms:
        assert alarm["AlarmActions"] == [_topic_ref(synth)]
        assert alarm["OKActions"] == [_topic_ref(synth)]
        assert alarm["TreatMissingData"] == "notBreaching"
        assert alarm["AlarmDescription"]


def test_given_the_topic_policy_then_cloudwatch_alarms_of_this_account_may_publish_over_tls_only(
    default_synth: Synth,
) -> None:
    # A topic policy replaces SNS's default one, so CloudWatch must be allowed explicitly or no alarm
    # action is ever delivered.
    [policy] = default_synth.resources("AWS::SNS::TopicPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]

    assert policy["Properties"]["Topics"] == [_topic_ref(default_synth)]
    [allow] = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allow["Action"] == "sns:Publish"
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    source_arn = allow["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Join"][1]
    assert ":cloudwatch:" in source_arn and source_arn[-1] == ":alarm:*"
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in statements
    )


# ----------------------------------------------------------------------------------------------- alarms


def test_given_the_dead_letter_queue_then_one_message_in_it_raises_an_alarm(default_synth: Synth) -> None:
    alarm = _alarm_on(default_synth, "AWS/SQS", "ApproximateNumberOfMessagesVisible")

    assert alarm["Dimensions"] == _queue_dimension(default_synth, default_synth.stack.jobs.dead_letter_queue)
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")


def test_given_the_worker_then_one_crash_or_one_throttle_raises_an_alarm(default_synth: Synth) -> None:
    worker = [
        {
            "Name": "FunctionName",
            "Value": {"Ref": default_synth.logical_id(default_synth.stack.worker.function)},
        }
    ]

    for metric_name in ("Errors", "Throttles"):
        alarm = _alarm_on(default_synth, "AWS/Lambda", metric_name)
        assert alarm["Dimensions"] == worker
        assert (alarm["Statistic"], alarm["Period"]) == ("Sum", FIVE_MINUTES)
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")


def test_given_the_api_then_one_5xx_raises_an_alarm(default_synth: Synth) -> None:
    alarm = _alarm_on(default_synth, "AWS/ApiGateway", "5xx")

    assert alarm["Dimensions"] == [
        {"Name": "ApiId", "Value": {"Ref": default_synth.logical_id(default_synth.stack.api.http_api)}}
    ]
    assert alarm["Threshold"] == 1


def test_given_the_job_queue_then_a_message_older_than_one_visibility_timeout_raises_an_alarm(
    default_synth: Synth,
) -> None:
    alarm = _alarm_on(default_synth, "AWS/SQS", "ApproximateAgeOfOldestMessage")

    assert alarm["Dimensions"] == _queue_dimension(default_synth, default_synth.stack.jobs.queue)
    assert alarm["Statistic"] == "Maximum"
    assert alarm["Threshold"] == deployment.visibility_timeout_seconds()
    assert alarm["Threshold"] == _queue_visibility_timeout(default_synth)


def _queue_visibility_timeout(synth: Synth) -> int:
    timeout: int = synth.properties(synth.stack.jobs.queue)["VisibilityTimeout"]
    return timeout


def test_given_job_failures_then_the_alarm_watches_their_share_of_finished_jobs_from_a_floor(
    default_synth: Synth,
) -> None:
    [alarm] = [alarm for alarm in _alarms(default_synth) if "Metrics" in alarm]
    queries = {query["Id"]: query for query in alarm["Metrics"]}

    [returned] = [query for query in alarm["Metrics"] if query["ReturnData"]]
    assert returned["Expression"] == (
        f"IF(failed >= {MIN_FAILED_JOBS}, 100 * failed / (failed + FILL(completed, 0)), 0)"
    )
    for query_id, metric_name in (
        ("failed", MetricName.JOBS_FAILED),
        ("completed", MetricName.JOBS_COMPLETED),
    ):
        stat = queries[query_id]["MetricStat"]
        assert stat["Metric"] == {
            "Namespace": METRIC_NAMESPACE,
            "MetricName": metric_name,
            "Dimensions": SERVICE_TOTAL,
        }
        assert (stat["Stat"], stat["Period"]) == ("Sum", FIVE_MINUTES)
    assert alarm["Threshold"] == FAILED_SHARE_PERCENT
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["EvaluationPeriods"] == 1


# -------------------------------------------------------------------------------------------- dashboard


def test_given_the_dashboard_then_there_is_one_named_after_the_stack_and_region(default_synth: Synth) -> None:
    [dashboard] = default_synth.resources("AWS::CloudWatch::Dashboard").values()

    assert dashboard["Properties"]["DashboardName"] == {
        "Fn::Join": ["", ["imagegen-dev-", {"Ref": "AWS::Region"}]]
    }


def test_given_the_dashboard_then_it_shows_the_state_of_every_alarm(default_synth: Synth) -> None:
    [status] = [widget for widget in _dashboard_widgets(default_synth) if widget["type"] == "alarm"]

    assert set(status["properties"]["alarms"]) == {
        f"{default_synth.logical_id(alarm)}.Arn" for alarm in default_synth.stack.monitoring.alarms
    }


def test_given_the_dashboard_then_jobs_per_minute_are_submissions_and_the_workers_totals(
    default_synth: Synth,
) -> None:
    graphed = _graphed(default_synth)
    queue = f"{default_synth.logical_id(default_synth.stack.jobs.queue)}.QueueName"

    assert ["AWS/SQS", "NumberOfMessagesSent", "QueueName", queue] in [line[:4] for line in graphed]
    totals = {
        line[1]
        for line in graphed
        if line[:1] == [METRIC_NAMESPACE] and line[2:4] == ["service", WORKER_SERVICE]
    }
    assert totals == {MetricName.JOBS_COMPLETED, MetricName.JOBS_FAILED, MetricName.JOBS_RETRIED}


def test_given_the_dashboard_then_failures_are_summed_by_reason_over_the_per_model_series(
    default_synth: Synth,
) -> None:
    assert (
        f'SELECT SUM({MetricName.JOBS_FAILED}) FROM SCHEMA("{METRIC_NAMESPACE}", model, reason) GROUP BY reason'
        in _expressions(default_synth)
    )


def test_given_the_dashboard_then_generation_latency_is_drawn_per_model_at_p50_and_p90(
    default_synth: Synth,
) -> None:
    expressions = _expressions(default_synth)

    for statistic in ("p50", "p90"):
        assert (
            f"SEARCH('{{{METRIC_NAMESPACE},model}} MetricName=\"{MetricName.GENERATION_LATENCY}\"', "
            f"'{statistic}', {FIVE_MINUTES})" in expressions
        )


def test_given_the_dashboard_then_it_draws_queue_depth_and_age_and_api_errors_and_latency(
    default_synth: Synth,
) -> None:
    drawn = {tuple(line[:2]) for line in _graphed(default_synth) if isinstance(line[0], str)}

    assert {
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        ("AWS/SQS", "ApproximateNumberOfMessagesNotVisible"),
        ("AWS/SQS", "ApproximateAgeOfOldestMessage"),
        ("AWS/ApiGateway", "5xx"),
        ("AWS/ApiGateway", "Latency"),
        ("AWS/Lambda", "Throttles"),
    } <= drawn
