"""R2ImageStore and SqsJobQueue on moto: R2's endpoint, no checksum headers, domain errors only."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import boto3
import pytest

from imagegen.adapters.aws.provision import create_bucket, create_queues
from imagegen.adapters.aws.r2_store import R2ImageStore, make_r2_client, r2_endpoint
from imagegen.adapters.aws.sqs_queue import SqsJobQueue
from imagegen.domain.errors import StorageError
from imagegen.domain.image_health import StoredObject
from tests.integration.aws.stack import jpeg_bytes
from tests.support.aws import R2_ACCOUNT_ID, R2_ENDPOINT, R2_EU_ENDPOINT, REGION

BASE_URL = "https://images.example.test/"


@pytest.fixture
def r2(aws: None) -> Any:
    client = make_r2_client(R2_ACCOUNT_ID, "key-id", "secret")
    create_bucket(client, "images")
    return client


def test_the_r2_client_targets_the_account_endpoint_with_region_auto_and_no_default_checksums() -> None:
    client = make_r2_client(R2_ACCOUNT_ID, "key-id", "secret")
    eu = make_r2_client(R2_ACCOUNT_ID, "key-id", "secret", "eu")

    assert client.meta.endpoint_url == R2_ENDPOINT
    assert eu.meta.endpoint_url == R2_EU_ENDPOINT
    assert client.meta.region_name == "auto"
    assert client.meta.config.request_checksum_calculation == "when_required"
    assert client.meta.config.response_checksum_validation == "when_required"
    assert r2_endpoint(R2_ACCOUNT_ID, "default") == R2_ENDPOINT


async def test_put_get_delete_round_trip_through_the_r2_endpoint(r2: Any) -> None:
    store = R2ImageStore("images", BASE_URL, r2)
    sent: list[dict[str, str]] = []
    urls: list[str] = []

    def record(request: Any, **kwargs: Any) -> None:
        sent.append(dict(request.headers))
        urls.append(request.url)

    r2.meta.events.register("before-send.s3.PutObject", record)
    data = jpeg_bytes()

    ref = await store.put("images/a.jpg", data, "image/jpeg")

    assert ref.url == "https://images.example.test/images/a.jpg"
    assert (ref.key, ref.content_type, ref.size_bytes) == ("images/a.jpg", "image/jpeg", len(data))
    assert len(sent) == 1 and urls[0].startswith(R2_ENDPOINT)
    assert not any(name.lower().startswith("x-amz-checksum") for name in sent[0])
    assert "aws-chunked" not in sent[0].get("Content-Encoding", "")
    assert await store.get("images/a.jpg") == (data, "image/jpeg")
    await store.delete("images/a.jpg")
    assert await store.get("images/a.jpg") is None
    await store.delete("images/a.jpg")  # deleting a missing object is not an error


async def test_stat_reports_size_and_declared_type_without_reading_or_none_when_absent(r2: Any) -> None:
    store = R2ImageStore("images", BASE_URL, r2)
    reads: list[str] = []
    r2.meta.events.register("before-call.s3.GetObject", lambda **kwargs: reads.append("GetObject"))
    data = jpeg_bytes()
    await store.put("images/a.jpg", data, "image/jpeg")

    stored = await store.stat("images/a.jpg")
    absent = await store.stat("images/missing.jpg")

    assert stored == StoredObject(size_bytes=len(data), content_type="image/jpeg")
    assert absent is None
    assert reads == []


async def test_storage_failures_surface_as_domain_errors(r2: Any) -> None:
    store = R2ImageStore("no-such-bucket", BASE_URL, r2)

    with pytest.raises(StorageError, match="NoSuchBucket"):
        await store.put("images/a.jpg", b"x", "image/jpeg")


async def test_enqueue_sends_batches_of_ten_with_job_id_bodies(aws: None) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    queue_url = create_queues(sqs, "jobs", visibility_timeout_seconds=60).queue_url
    batches: list[int] = []
    sqs.meta.events.register(
        "provide-client-params.sqs.SendMessageBatch",
        lambda params, **kwargs: batches.append(len(params["Entries"])),
    )
    ids = [str(uuid.uuid4()) for _ in range(23)]

    await SqsJobQueue(queue_url, sqs).enqueue(ids, "alice")

    assert batches == [10, 10, 3]
    bodies: list[dict[str, str]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            break
        bodies += [json.loads(message["Body"]) for message in messages]
    assert sorted(body["job_id"] for body in bodies) == sorted(ids)


@pytest.mark.parametrize(
    ("client", "group"),
    [
        ("alice", "alice"),
        ("ci-bot_2", "ci-bot_2"),
        ("zoë with spaces", "client-" + hashlib.sha256("zoë with spaces".encode()).hexdigest()[:32]),
        ("x" * 200, "client-" + hashlib.sha256(("x" * 200).encode()).hexdigest()[:32]),
    ],
)
async def test_each_message_names_its_client_as_the_fair_queue_group(
    aws: None, client: str, group: str
) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    queue_url = create_queues(sqs, "jobs", visibility_timeout_seconds=60).queue_url

    await SqsJobQueue(queue_url, sqs).enqueue([str(uuid.uuid4())], client)

    message = sqs.receive_message(QueueUrl=queue_url, MessageSystemAttributeNames=["MessageGroupId"])[
        "Messages"
    ][0]
    assert message["Attributes"]["MessageGroupId"] == group


async def test_enqueue_to_a_missing_queue_raises_a_domain_error(aws: None) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    url = f"https://sqs.{REGION}.amazonaws.com/123456789012/missing"

    with pytest.raises(StorageError):
        await SqsJobQueue(url, sqs).enqueue([str(uuid.uuid4())], "alice")
