"""moto behaves as AWS does where the emulated stack can tell: SQS fair queues and lossless deletes.

(DynamoDB's transaction isolation is proven by the JobStore contract: two calls never both take the last
slot of a limit.)
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from imagegen.adapters.aws.provision import create_queues
from imagegen.emulator.moto_fidelity import fair_order
from tests.support.aws import fake_aws_env


@dataclass(frozen=True)
class Message:
    name: str
    group_id: str | None
    visible: bool = True


@pytest.fixture
def sqs_queue() -> Iterator[tuple[Any, str]]:
    with fake_aws_env(), mock_aws():
        sqs = boto3.client("sqs")
        yield sqs, create_queues(sqs, "jobs", visibility_timeout_seconds=60).queue_url


def send(sqs: Any, url: str, group: str, count: int) -> None:
    for start in range(0, count, 10):
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(n), "MessageBody": f"{group}-{start + n}", "MessageGroupId": group}
                for n in range(min(10, count - start))
            ],
        )


def receive(sqs: Any, url: str, count: int) -> list[str]:
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=count).get("Messages", [])
    return [message["Body"] for message in messages]


def test_fair_order_serves_groups_in_turn_and_quiet_groups_first() -> None:
    messages = [Message(f"n{n}", "noisy") for n in range(4)] + [Message("q0", "quiet"), Message("x", None)]

    order = fair_order(messages, in_flight=Counter({"noisy": 3}))

    assert [message.name for message in order] == ["q0", "x", "n0", "n1", "n2", "n3"]


def test_given_a_backlog_of_one_client_then_another_clients_message_is_received_first(
    sqs_queue: tuple[Any, str],
) -> None:
    sqs, url = sqs_queue
    send(sqs, url, "noisy", 100)
    assert receive(sqs, url, 10) == [f"noisy-{n}" for n in range(10)]

    send(sqs, url, "quiet", 1)

    assert receive(sqs, url, 1) == ["quiet-0"]


def test_given_two_clients_with_backlogs_then_receives_alternate_between_them(
    sqs_queue: tuple[Any, str],
) -> None:
    sqs, url = sqs_queue
    send(sqs, url, "alice", 20)
    send(sqs, url, "bob", 20)

    received = receive(sqs, url, 10)

    assert Counter(body.split("-")[0] for body in received) == {"alice": 5, "bob": 5}


def test_sends_during_deletes_are_never_lost(sqs_queue: tuple[Any, str]) -> None:
    sqs, url = sqs_queue
    send(sqs, url, "old", 50)
    stop = threading.Event()
    deleted: list[str] = []

    def delete_the_old_messages() -> None:
        while not stop.is_set():
            for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
                if message["Body"].startswith("old-"):
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                    deleted.append(message["Body"])

    deleter = threading.Thread(target=delete_the_old_messages)
    deleter.start()
    try:
        senders = [threading.Thread(target=send, args=(sqs, url, f"new{n}", 100)) for n in range(4)]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()
    finally:
        stop.set()
        deleter.join()

    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    kept = int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )
    assert kept == 50 - len(deleted) + 400
