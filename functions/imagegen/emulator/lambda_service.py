"""Lambda functions on one machine: a pool of execution environments, each a process of its own.

What makes this emulation fail where Lambda fails, rather than be kinder:
- **One invocation per environment.** Each environment is a separate Python process running the AWS
  Lambda runtime interface client against its own Runtime API. A request that finds every environment
  busy gets a new one, which pays a real cold start (a fresh interpreter importing the handler module),
  so a slow or stuck invocation never blocks another. Module state survives between invocations of one
  environment, as in a warm container.
- **Timeouts end the environment.** An invocation still running at the function's timeout fails with
  `Sandbox.Timedout` and its process is killed; the next invocation there starts cold.
- **Payload limits.** An event over 6 MB is refused before it reaches the function
  (`RequestEntityTooLargeException`); a response over 6 MB fails the invocation (`runtime_api`).
- **Concurrency.** Concurrent environments across all functions are limited like an account's
  concurrency quota (1,000 by default; new accounts often have 10): past it an invocation is throttled
  (`TooManyRequestsException`) instead of queued.

Not reproduced: per-environment CPU and memory limits (every process shares this machine), the dependency
layer (environments import from the local virtualenv), X-Ray, and idle environments being reclaimed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from imagegen.emulator.runtime_api import (
    MAX_REQUEST_PAYLOAD_BYTES,
    Invocation,
    InvocationOutcome,
    RuntimeApi,
)

logger = logging.getLogger(__name__)

ACCOUNT_ID = "000000000000"
DEFAULT_ACCOUNT_CONCURRENCY = 1000
# Lambda gives the Init phase 10 s; when it runs longer it is retried within the invocation's own timeout.
INIT_TIMEOUT_SECONDS = 10.0
FUNCTIONS_DIR = Path(__file__).resolve().parents[2]

LogSink = Callable[[str, str], None]


def log_to_logger(source: str, line: str) -> None:
    logging.getLogger("imagegen.emulator.functions").info("[%s] %s", source, line)


@dataclass(frozen=True)
class FunctionConfig:
    """What `aws_lambda.Function` configures: handler, timeout, memory and environment."""

    name: str
    handler: str
    timeout_seconds: float
    memory_mb: int = 1024
    environment: Mapping[str, str] = field(default_factory=dict)
    region: str = "us-east-1"
    code_dir: Path = FUNCTIONS_DIR
    python: str = sys.executable

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{self.name}"

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.name}"


@dataclass(frozen=True)
class InvocationResult:
    """The outcome of one Invoke call, with what Lambda's REPORT line says about it."""

    request_id: str
    outcome: InvocationOutcome
    cold_start: bool = False
    init_ms: float = 0.0
    duration_ms: float = 0.0
    throttled: bool = False

    @property
    def failed(self) -> bool:
        return self.outcome.failed

    def payload(self) -> object:
        return json.loads(self.outcome.body)


def _error(error_type: str, message: str) -> InvocationOutcome:
    body = json.dumps({"errorType": error_type.rsplit(".", 1)[-1], "errorMessage": message}).encode()
    return InvocationOutcome(body=body, error_type=error_type)


class ConcurrencyQuota:
    """The account's concurrent executions, shared by every function (non-blocking, like Lambda)."""

    def __init__(self, limit: int = DEFAULT_ACCOUNT_CONCURRENCY) -> None:
        self.limit = limit
        self._in_use = 0
        self._lock = threading.Lock()

    def try_acquire(self) -> bool:
        with self._lock:
            if self._in_use >= self.limit:
                return False
            self._in_use += 1
            return True

    def release(self) -> None:
        with self._lock:
            self._in_use -= 1


class ExecutionEnvironment:
    """One runtime process and its Runtime API: init once, then invocations one at a time."""

    def __init__(self, config: FunctionConfig, index: int, log: LogSink) -> None:
        self.config = config
        self.index = index
        self.label = f"{config.name}#{index}"
        self._log = log
        self._init_error: InvocationOutcome | None = None
        self._exited = threading.Event()
        self.api = RuntimeApi(on_init_error=self._record_init_error)
        self.started = time.monotonic()
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and handler name
            [config.python, "-m", "awslambdaric", config.handler],
            cwd=config.code_dir,
            env=self._environment(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        threading.Thread(target=self._pump_output, name=f"{self.label}-output", daemon=True).start()

    def _environment(self) -> dict[str, str]:
        """Only what Lambda sets: the function's own variables and the runtime's reserved ones."""
        config = self.config
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        reserved = {
            "_HANDLER": config.handler,
            "AWS_LAMBDA_RUNTIME_API": self.api.address,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_python{version}",
            "AWS_LAMBDA_FUNCTION_NAME": config.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": config.log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": f"local/[$LATEST]{self.index}",
            "AWS_LAMBDA_LOG_FORMAT": "JSON",
            "AWS_REGION": config.region,
            "AWS_DEFAULT_REGION": config.region,
            "LAMBDA_TASK_ROOT": str(config.code_dir),
            "LAMBDA_RUNTIME_DIR": str(Path(config.python).parent),
            "PYTHONPATH": str(config.code_dir),
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
        }
        return {**dict(config.environment), **reserved}

    def _pump_output(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            # The runtime separates a multi-line record's lines with carriage returns.
            for line in raw.decode("utf-8", "replace").rstrip("\n").split("\r"):
                if line.strip():
                    self._log(self.label, line)
        self.process.wait()
        self._exited.set()
        self.api.complete_current(
            _error("Runtime.ExitError", f"Runtime exited with status {self.process.returncode}")
        )

    def _record_init_error(self, outcome: InvocationOutcome) -> None:
        self._init_error = outcome

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def ready_for_next(self, timeout: float = 2.0) -> bool:
        """True once the runtime asks for its next event again; False if it died instead (reset it)."""
        deadline = time.monotonic() + timeout
        while not self.api.polling.wait(0.01):
            if self._exited.is_set() or time.monotonic() > deadline:
                return False
        return self.alive

    def wait_initialized(self, timeout: float) -> InvocationOutcome | None:
        """None once the runtime asks for its first event; otherwise why init failed."""
        deadline = time.monotonic() + timeout
        while not self.api.ready.wait(0.02):
            if self._init_error is not None:
                return self._init_error
            if self._exited.is_set():
                return self._init_error or _error(
                    "Runtime.ExitError", f"Runtime exited during init with status {self.process.returncode}"
                )
            if time.monotonic() > deadline:
                return _error("Runtime.InitTimeout", f"INIT did not complete within {timeout:g} seconds")
        return None

    def invoke(self, payload: bytes, request_id: str, timeout: float) -> InvocationOutcome:
        invocation = Invocation(
            request_id=request_id,
            payload=payload,
            deadline_epoch_ms=int((time.time() + timeout) * 1000),
            function_arn=self.config.arn,
            trace_id=f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0",
        )
        self.api.submit(invocation)
        try:
            return invocation.outcome.result(timeout=timeout)
        except TimeoutError:
            self.destroy()
            return _error("Sandbox.Timedout", f"Task timed out after {timeout:.2f} seconds")

    def destroy(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        self.api.close()


class LambdaFunction:
    """Invoke one function: reuse an idle warm environment, or start a new one (a cold start)."""

    def __init__(
        self,
        config: FunctionConfig,
        *,
        quota: ConcurrencyQuota | None = None,
        log: LogSink = log_to_logger,
    ) -> None:
        self.config = config
        self._quota = quota or ConcurrencyQuota()
        self._log = log
        self._idle: list[ExecutionEnvironment] = []
        self._all: set[ExecutionEnvironment] = set()
        self._lock = threading.Lock()
        self._counter = 0
        self._closed = False

    @property
    def environments(self) -> int:
        with self._lock:
            return len(self._all)

    def invoke(self, payload: bytes) -> InvocationResult:
        """Synchronous Invoke (RequestResponse). Blocks the calling thread for the invocation's duration."""
        request_id = str(uuid.uuid4())
        if len(payload) > MAX_REQUEST_PAYLOAD_BYTES:
            message = f"Request must be smaller than {MAX_REQUEST_PAYLOAD_BYTES} bytes for the InvokeFunction operation"
            return InvocationResult(request_id, _error("RequestEntityTooLargeException", message))
        if self._closed or not self._quota.try_acquire():
            message = "Rate Exceeded."
            return InvocationResult(request_id, _error("TooManyRequestsException", message), throttled=True)
        try:
            return self._invoke(payload, request_id)
        finally:
            self._quota.release()

    def _invoke(self, payload: bytes, request_id: str) -> InvocationResult:
        environment, cold = self._acquire()
        init_ms = 0.0
        if cold:
            failure = environment.wait_initialized(max(INIT_TIMEOUT_SECONDS, self.config.timeout_seconds))
            init_ms = (time.monotonic() - environment.started) * 1000
            if failure is not None:
                self._discard(environment)
                self._report(environment, request_id, 0.0, init_ms, failure)
                return InvocationResult(request_id, failure, cold_start=True, init_ms=init_ms)
        started = time.monotonic()
        outcome = environment.invoke(payload, request_id, self.config.timeout_seconds)
        duration_ms = (time.monotonic() - started) * 1000
        self._report(environment, request_id, duration_ms, init_ms, outcome)
        if environment.alive and outcome.error_type != "Sandbox.Timedout":
            self._release(environment)
        else:
            self._discard(environment)
        return InvocationResult(
            request_id, outcome, cold_start=cold, init_ms=init_ms, duration_ms=duration_ms
        )

    def _acquire(self) -> tuple[ExecutionEnvironment, bool]:
        with self._lock:
            candidate = self._idle.pop() if self._idle else None
        # A runtime that crashed after answering (it could not post its response) is reset, not reused.
        while candidate is not None:
            if candidate.ready_for_next():
                return candidate, False
            self._discard(candidate)
            with self._lock:
                candidate = self._idle.pop() if self._idle else None
        with self._lock:
            self._counter += 1
            index = self._counter
        environment = ExecutionEnvironment(self.config, index, self._log)
        with self._lock:
            self._all.add(environment)
        return environment, True

    def _release(self, environment: ExecutionEnvironment) -> None:
        with self._lock:
            if self._closed:
                environment.destroy()
                return
            self._idle.append(environment)

    def _discard(self, environment: ExecutionEnvironment) -> None:
        environment.destroy()
        with self._lock:
            self._all.discard(environment)

    def _report(
        self,
        environment: ExecutionEnvironment,
        request_id: str,
        duration_ms: float,
        init_ms: float,
        outcome: InvocationOutcome,
    ) -> None:
        line = f"REPORT RequestId: {request_id} Duration: {duration_ms:.2f} ms"
        if init_ms:
            line += f" Init Duration: {init_ms:.2f} ms"
        if outcome.failed:
            line += f" Status: error ({outcome.error_type}: {outcome.error_message()[:200]})"
        self._log(environment.label, line)

    def reclaim_idle(self) -> int:
        """Shut down every idle execution environment, as Lambda does with environments it reclaims: the
        next invocation starts cold in a new one. Returns how many were reclaimed."""
        with self._lock:
            idle, self._idle = self._idle, []
            self._all.difference_update(idle)
        for environment in idle:
            environment.destroy()
        return len(idle)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            environments = list(self._all)
            self._all.clear()
            self._idle.clear()
        for environment in environments:
            environment.destroy()
