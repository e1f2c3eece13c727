"""Run the deployed Lambda handlers on one machine, against any AWS-compatible endpoint.

Two small stand-ins for the managed services that invoke Lambda:
- `ApiGatewayAdapter`, an ASGI app that turns each HTTP request into an API Gateway HTTP API (v2) event,
  calls the real API handler and turns its answer back into an HTTP response;
- `SqsLambdaPoller`, which receives from the real queue, hands batches to the real worker handler as
  SQS events and deletes what the handler did not report failed, as the event source mapping does.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from starlette.types import Receive, Scope, Send

from imagegen.runtime.aws_events import LocalLambdaContext, http_api_event, sqs_event

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

logger = logging.getLogger(__name__)

LambdaHandler = Callable[[dict[str, Any], Any], Any]

# API Gateway answers 413 above 10 MB; MCP requests are tiny, so refuse large bodies early.
MAX_BODY_BYTES = 10 * 1024 * 1024


class ApiGatewayAdapter:
    """ASGI app: HTTP request -> API Gateway v2 event -> Lambda handler -> HTTP response."""

    def __init__(
        self,
        handler: LambdaHandler,
        *,
        domain_name: str,
        function_name: str = "mcp_api",
        region: str = "us-east-1",
    ) -> None:
        self._handler = handler
        # Like API Gateway, name the domain this API is served on, whatever Host the request claims: the
        # handler's DNS-rebinding check compares the two.
        self._domain_name = domain_name
        self._function_name = function_name
        self._region = region
        # Lambda runs one request at a time per container; a single thread keeps that, and keeps the
        # handler on one event loop for its life as in a warm container.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lambda-mcp-api")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send, on_shutdown=lambda: self._executor.shutdown(wait=False))
            return
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > MAX_BODY_BYTES:
                await _plain(send, 413, b"Request Entity Too Large")
                return
            if not message.get("more_body"):
                break
        headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]}
        event = http_api_event(
            method=scope["method"],
            path=scope["path"],
            headers=headers,
            body=body,
            query_string=scope.get("query_string", b"").decode("latin-1"),
            domain_name=self._domain_name,
            source_ip=(scope.get("client") or ("127.0.0.1", 0))[0],
        )
        context = LocalLambdaContext(function_name=self._function_name, region=self._region)
        try:
            result = await anyio.to_thread.run_sync(self._invoke, event, context)
        except Exception:
            logger.exception("the API handler raised")
            await _plain(send, 502, b"Internal Server Error")
            return
        await _send_lambda_response(send, result)

    def _invoke(self, event: dict[str, Any], context: LocalLambdaContext) -> Any:
        return self._executor.submit(self._handler, event, context).result()


async def _send_lambda_response(send: Send, result: Mapping[str, Any]) -> None:
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
    headers: list[tuple[bytes, bytes]] = [
        (name.lower().encode("latin-1"), str(value).encode("latin-1"))
        for name, value in (result.get("headers") or {}).items()
        if name.lower() != "content-length"
    ]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers += [(name.lower().encode("latin-1"), str(value).encode("latin-1")) for value in values]
    for cookie in result.get("cookies") or []:
        headers.append((b"set-cookie", str(cookie).encode("latin-1")))
    headers.append((b"content-length", str(len(body)).encode()))
    await send(
        {"type": "http.response.start", "status": int(result.get("statusCode", 200)), "headers": headers}
    )
    await send({"type": "http.response.body", "body": body})


async def _plain(send: Send, status: int, text: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(text)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": text})


async def _lifespan(receive: Receive, send: Send, *, on_shutdown: Callable[[], None]) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            on_shutdown()
            await send({"type": "lifespan.shutdown.complete"})
            return


class SqsLambdaPoller:
    """The SQS event source mapping in miniature: receive, invoke, delete the successes."""

    def __init__(
        self,
        client: SQSClient,
        queue_url: str,
        handler: LambdaHandler,
        *,
        function_name: str = "image_worker",
        region: str = "us-east-1",
        batch_size: int = 10,
        wait_seconds: int = 1,
        timeout_seconds: float = 120.0,
    ) -> None:
        self.timeout_seconds = timeout_seconds  # the function's configured timeout, as Lambda would apply it
        self._client = client
        self._queue_url = queue_url
        self._handler = handler
        self._function_name = function_name
        self._region = region
        self._batch_size = batch_size
        self._wait_seconds = wait_seconds
        self._queue_arn = client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll_once(self, wait_seconds: int | None = None) -> dict[str, Any] | None:
        """One receive + invoke + delete. Returns the handler's response, or None if nothing arrived."""
        response = self._client.receive_message(
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=self._batch_size,
            WaitTimeSeconds=self._wait_seconds if wait_seconds is None else wait_seconds,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if not messages:
            return None
        return self.invoke(messages)

    def invoke(self, messages: Iterable[MessageTypeDef]) -> dict[str, Any]:
        batch = list(messages)
        event = sqs_event([dict(message) for message in batch], self._queue_arn, self._region)
        context = LocalLambdaContext(
            function_name=self._function_name, region=self._region, timeout_seconds=self.timeout_seconds
        )
        try:
            result: dict[str, Any] = self._handler(event, context)
        except Exception:
            # A failed invocation fails the whole batch: every message becomes visible again later.
            logger.exception("the worker handler raised; the batch will be redelivered")
            return {"batchItemFailures": [{"itemIdentifier": message["MessageId"]} for message in batch]}
        failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
        done = [message for message in batch if message["MessageId"] not in failed]
        if done:
            self._client.delete_message_batch(
                QueueUrl=self._queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": m["ReceiptHandle"]} for index, m in enumerate(done)
                ],
            )
        return result

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sqs-lambda-poller", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:
                logger.exception("polling the job queue failed; retrying")
                self._stop.wait(1.0)
