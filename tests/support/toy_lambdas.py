"""Functions over the toy handlers in tests/support/lambdas, run by the emulation as Lambda would."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from imagegen.emulator.lambda_service import (
    ConcurrencyQuota,
    FunctionConfig,
    InvocationResult,
    LambdaFunction,
)
from tests.support.emulated_aws import FunctionLogs

LAMBDAS = Path(__file__).resolve().parent / "lambdas"


def toy_function(
    handler: str = "toy.handler",
    *,
    timeout_seconds: float = 10.0,
    quota: ConcurrencyQuota | None = None,
    logs: FunctionLogs | None = None,
) -> LambdaFunction:
    config = FunctionConfig(name="toy", handler=handler, timeout_seconds=timeout_seconds, code_dir=LAMBDAS)
    return LambdaFunction(config, quota=quota, log=logs or FunctionLogs())


def invoke(function: LambdaFunction, event: dict[str, Any]) -> InvocationResult:
    return function.invoke(json.dumps(event).encode())
