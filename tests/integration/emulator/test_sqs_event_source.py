"""The SQS event source mapping: partial batch responses, redelivery after the visibility timeout, the DLQ.

The queue is moto's; the worker is a toy handler in its own Lambda environment. Visibility timeout and
redrive are the queue's own behaviour: the event source only deletes what the function acknowledged.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from imagegen.adapters.aws.provision import create_queues
from imagegen.emulator.lambda_service import LambdaFunction
from imagegen.emulator.sqs_event_source import SqsEventSource
from tests.support.aws import fake_aws_env
from tests.support.toy_lambdas import toy_function

VISIBILITY_SECONDS = 1
MAX_RECEIVE_COUNT = 2


@pytest.fixture(scope="module")
def worker() -> Iterator[LambdaFunction]:
    function = toy_function("toy.sqs_handler")
    yield function
    function.close()


@pytest.fixture
def queue(worker: LambdaFunction) -> Iterator[tuple[Any, SqsEventSource, str, str]]:
    with fake_aws_env(), mock_aws():
        sqs = boto3.client("sqs")
        urls = create_queues(
            sqs, "jobs", max_receive_count=MAX_RECEIVE_COUNT, visibility_timeout_seconds=VISIBILITY_SECONDS
        )
        source = SqsEventSource(sqs, urls.queue_url, worker, batch_size=10, wait_seconds=0)
        yield sqs, source, urls.queue_url, urls.dlq_url


def _send(sqs: Any, url: str, *bodies: str) -> None:
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)


def _count(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def _bodies(source: SqsEventSource) -> list[str]:
    return sorted(message["Body"] for message in source.receive(wait_seconds=0))


def test_only_the_messages_the_function_reports_failed_stay_on_the_queue(queue: Any) -> None:
    sqs, source, url, _ = queue
    _send(sqs, url, "ok", "fail", "ok")

    answer = source.poll_once(wait_seconds=0)

    assert answer is not None and len(answer["batchItemFailures"]) == 1
    assert _count(sqs, url) == 1
    time.sleep(VISIBILITY_SECONDS + 0.2)
    assert _bodies(source) == ["fail"]


@pytest.mark.parametrize("poison", ["crash", "garbage"])
def test_a_failed_invocation_or_an_invalid_answer_keeps_the_whole_batch(queue: Any, poison: str) -> None:
    sqs, source, url, _ = queue
    _send(sqs, url, "ok", poison)

    source.poll_once(wait_seconds=0)

    assert _count(sqs, url) == 2
    assert source.receive(wait_seconds=0) == []  # invisible until the visibility timeout passes
    time.sleep(VISIBILITY_SECONDS + 0.2)
    assert _bodies(source) == sorted(["ok", poison])


def test_a_message_that_keeps_failing_moves_to_the_dead_letter_queue(queue: Any) -> None:
    sqs, source, url, dlq_url = queue
    _send(sqs, url, "fail")

    for _ in range(MAX_RECEIVE_COUNT):
        source.poll_once(wait_seconds=0)
        time.sleep(VISIBILITY_SECONDS + 0.2)

    assert source.poll_once(wait_seconds=0) is None
    assert _count(sqs, dlq_url) == 1


def test_started_pollers_drain_the_queue(queue: Any) -> None:
    sqs, source, url, _ = queue
    _send(sqs, url, *["ok"] * 12)

    source.start()
    try:
        deadline = time.monotonic() + 20
        while _count(sqs, url) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        source.stop()

    assert _count(sqs, url) == 0
