"""A function whose handler runs in this process: for step-through debugging and in-process moto tests.

Nothing is isolated here: the handler shares this interpreter, its timeout is only reported through the
context object, never enforced. Use `LambdaFunction` to see what Lambda would do.
"""

from __future__ import annotations

import json
import traceback
import uuid
from collections.abc import Callable
from typing import Any

from imagegen.emulator.events import LocalLambdaContext
from imagegen.emulator.lambda_service import FunctionConfig, InvocationResult
from imagegen.emulator.runtime_api import MAX_REQUEST_PAYLOAD_BYTES, InvocationOutcome

Handler = Callable[[dict[str, Any], Any], Any]


class InProcessFunction:
    def __init__(self, handler: Handler, config: FunctionConfig) -> None:
        self._handler = handler
        self.config = config

    def invoke(self, payload: bytes) -> InvocationResult:
        request_id = str(uuid.uuid4())
        if len(payload) > MAX_REQUEST_PAYLOAD_BYTES:
            body = json.dumps(
                {"errorType": "RequestEntityTooLargeException", "errorMessage": "payload too large"}
            )
            return InvocationResult(
                request_id, InvocationOutcome(body.encode(), error_type="RequestEntityTooLargeException")
            )
        context = LocalLambdaContext(
            function_name=self.config.name,
            memory_limit_in_mb=self.config.memory_mb,
            aws_request_id=request_id,
            region=self.config.region,
            timeout_seconds=self.config.timeout_seconds,
        )
        try:
            answer = self._handler(json.loads(payload), context)
        except Exception as exc:
            body = json.dumps(
                {
                    "errorType": type(exc).__name__,
                    "errorMessage": str(exc),
                    "stackTrace": traceback.format_exception(exc),
                }
            )
            return InvocationResult(request_id, InvocationOutcome(body.encode(), error_type="Unhandled"))
        return InvocationResult(request_id, InvocationOutcome(json.dumps(answer).encode()))
