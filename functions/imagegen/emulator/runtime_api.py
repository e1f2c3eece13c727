"""The Lambda Runtime API of one execution environment, which the runtime interface client polls.

A real Lambda environment runs a runtime (here the AWS Lambda runtime interface client, `awslambdaric`,
the same code the managed Python runtime is built on) that asks the Runtime API for the next event,
calls the handler, and posts the answer back. This server speaks that HTTP protocol
(`/2018-06-01/runtime/...`) to one such process, so the handler modules run exactly as deployed: imported
once, warm between invocations, one invocation at a time.

Limits enforced here as Lambda enforces them: a response larger than 6 MB (6,291,556 bytes) is refused
with 413 and the invocation fails with `Function.ResponseSizeTooLarge`.
"""

from __future__ import annotations

import json
import logging
import queue
import socket
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

logger = logging.getLogger(__name__)

API_PREFIX = "/2018-06-01/runtime"
# Lambda's documented synchronous limits: 6 MB in, and 6 MB (plus 100 bytes, as measured) out.
MAX_REQUEST_PAYLOAD_BYTES = 6 * 1024 * 1024
MAX_RESPONSE_PAYLOAD_BYTES = 6 * 1024 * 1024 + 100


@dataclass(frozen=True)
class Invocation:
    """One event handed to the runtime, and where its outcome goes."""

    request_id: str
    payload: bytes
    deadline_epoch_ms: int
    function_arn: str
    trace_id: str
    outcome: Future[InvocationOutcome] = field(default_factory=Future, compare=False)


@dataclass(frozen=True)
class InvocationOutcome:
    """What the runtime posted: a response body, or an error (`error_type` set)."""

    body: bytes
    error_type: str | None = None

    @property
    def failed(self) -> bool:
        return self.error_type is not None

    def error_message(self) -> str:
        try:
            document = json.loads(self.body)
        except ValueError:
            return self.body.decode("utf-8", "replace")
        return str(document.get("errorMessage", "")) if isinstance(document, dict) else str(document)


class RuntimeApi:
    """The Runtime API for one environment on a loopback port. Thread-safe; one invocation at a time."""

    def __init__(self, on_init_error: Callable[[InvocationOutcome], None]) -> None:
        self._pending: queue.Queue[Invocation | None] = queue.Queue()
        self._current: Invocation | None = None
        self._lock = threading.Lock()
        self._on_init_error = on_init_error
        self.ready = threading.Event()  # set when the runtime first asks for an event: init is done
        self.polling = threading.Event()  # set while the runtime waits for its next event
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"runtime-api-{self.port}", daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def address(self) -> str:
        """The value of AWS_LAMBDA_RUNTIME_API for the runtime process."""
        return f"127.0.0.1:{self.port}"

    def submit(self, invocation: Invocation) -> None:
        with self._lock:
            self._current = invocation
        self._pending.put(invocation)

    def close(self) -> None:
        self._pending.put(None)
        self._server.shutdown()
        self._server.server_close()

    # ------------------------------------------------------------ called by the HTTP handler

    def next_invocation(self) -> Invocation | None:
        self.ready.set()
        self.polling.set()
        invocation = self._pending.get()
        self.polling.clear()
        return invocation

    def complete(self, request_id: str, outcome: InvocationOutcome) -> bool:
        with self._lock:
            current = self._current
            if current is None or current.request_id != request_id:
                return False
            self._current = None
        if not current.outcome.done():
            current.outcome.set_result(outcome)
        return True

    def complete_current(self, outcome: InvocationOutcome) -> None:
        """End whatever invocation is in flight (the runtime process is gone)."""
        with self._lock:
            current, self._current = self._current, None
        if current is not None and not current.outcome.done():
            current.outcome.set_result(outcome)

    def init_failed(self, outcome: InvocationOutcome) -> None:
        self._on_init_error(outcome)


def _handler_for(api: RuntimeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # The runtime client keeps its connection open between calls, as it does against the real API.
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Small answers on a kept-alive connection: without this, Nagle's algorithm and the client's
            # delayed ACK add about 40 ms to every invocation.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("runtime api %s: " + format, api.address, *args)

        def do_GET(self) -> None:
            if self.path == f"{API_PREFIX}/invocation/next":
                invocation = api.next_invocation()
                if invocation is None:
                    # The environment is being torn down: the runtime process is killed next.
                    self.close_connection = True
                    return
                self._send(
                    HTTPStatus.OK,
                    invocation.payload,
                    {
                        "Content-Type": "application/json",
                        "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
                        "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_epoch_ms),
                        "Lambda-Runtime-Invoked-Function-Arn": invocation.function_arn,
                        "Lambda-Runtime-Trace-Id": invocation.trace_id,
                    },
                )
                return
            self._send(HTTPStatus.NOT_FOUND, b'{"errorMessage":"not found"}')

        def do_POST(self) -> None:
            body = self._read_body()
            parts = self.path.removeprefix(API_PREFIX).strip("/").split("/")
            if parts == ["init", "error"]:
                error_type = self.headers.get("Lambda-Runtime-Function-Error-Type") or "Runtime.InitError"
                api.init_failed(InvocationOutcome(body=body, error_type=error_type))
                self._send(HTTPStatus.ACCEPTED, b'{"status":"OK"}')
                return
            if len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
                request_id, kind = parts[1], parts[2]
                if kind == "response" and len(body) > MAX_RESPONSE_PAYLOAD_BYTES:
                    message = (
                        f"Response payload size ({len(body)} bytes) exceeded maximum allowed payload size "
                        f"({MAX_RESPONSE_PAYLOAD_BYTES} bytes)."
                    )
                    outcome = InvocationOutcome(
                        body=json.dumps(
                            {"errorMessage": message, "errorType": "ResponseSizeTooLarge"}
                        ).encode(),
                        error_type="Function.ResponseSizeTooLarge",
                    )
                    api.complete(request_id, outcome)
                    self._send(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, outcome.body)
                    return
                if kind == "response":
                    outcome = InvocationOutcome(body=body)
                else:
                    error_type = self.headers.get("Lambda-Runtime-Function-Error-Type") or "Unhandled"
                    outcome = InvocationOutcome(body=body, error_type=error_type)
                if api.complete(request_id, outcome):
                    self._send(HTTPStatus.ACCEPTED, b'{"status":"OK"}')
                else:
                    self._send(HTTPStatus.BAD_REQUEST, b'{"errorMessage":"unknown request id"}')
                return
            self._send(HTTPStatus.NOT_FOUND, b'{"errorMessage":"not found"}')

        def _read_body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _send(self, status: HTTPStatus, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for name, value in (headers or {"Content-Type": "application/json"}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler
