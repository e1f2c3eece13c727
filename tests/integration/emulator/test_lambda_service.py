"""Lambda on this machine fails where Lambda fails: environments, timeouts, payload limits, throttles."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest

from imagegen.emulator.lambda_service import ConcurrencyQuota, LambdaFunction
from imagegen.emulator.runtime_api import MAX_REQUEST_PAYLOAD_BYTES
from tests.support.emulated_aws import FunctionLogs
from tests.support.toy_lambdas import invoke, toy_function


@pytest.fixture
def function() -> Iterator[LambdaFunction]:
    toy = toy_function(timeout_seconds=2.0)
    yield toy
    toy.close()


def test_a_warm_environment_keeps_its_module_state(function: LambdaFunction) -> None:
    first = invoke(function, {}).payload()
    second = invoke(function, {})

    assert isinstance(first, dict)
    assert not second.cold_start
    assert second.payload() == {**first, "invocations": 2, "remaining_ms": second.payload()["remaining_ms"]}  # type: ignore[index]


def test_the_context_counts_down_from_the_function_timeout(function: LambdaFunction) -> None:
    answer = invoke(function, {}).payload()

    assert isinstance(answer, dict)
    assert 1500 < answer["remaining_ms"] <= 2000
    assert answer["function_name"] == "toy"


def test_a_stuck_invocation_never_blocks_another(function: LambdaFunction) -> None:
    # Given one invocation busy for a while
    slow_done = threading.Event()
    slow = threading.Thread(target=lambda: (invoke(function, {"sleep": 1.5}), slow_done.set()))
    slow.start()

    # When another request arrives meanwhile
    quick = invoke(function, {})

    # Then it is answered by another environment while the first is still busy
    assert not quick.failed
    assert not slow_done.is_set()
    slow.join()
    assert function.environments == 2


def test_a_timed_out_invocation_fails_and_its_environment_starts_over(function: LambdaFunction) -> None:
    invoke(function, {})

    timed_out = invoke(function, {"sleep": 5})
    after = invoke(function, {})

    assert timed_out.outcome.error_type == "Sandbox.Timedout"
    assert "Task timed out after 2.00 seconds" in timed_out.outcome.error_message()
    assert after.cold_start and after.payload()["invocations"] == 1  # type: ignore[index]


def test_an_unhandled_exception_is_a_function_error(function: LambdaFunction) -> None:
    result = invoke(function, {"raise": "nope"})

    assert result.outcome.error_type == "Unhandled"
    assert json.loads(result.outcome.body)["errorMessage"] == "nope"
    assert not invoke(function, {}).failed  # the environment survives a handled error


def test_an_event_over_6_mb_is_refused_before_any_environment_starts(function: LambdaFunction) -> None:
    result = function.invoke(b'"' + b"x" * MAX_REQUEST_PAYLOAD_BYTES + b'"')

    assert result.outcome.error_type == "RequestEntityTooLargeException"
    assert function.environments == 0


def test_a_response_over_6_mb_fails_the_invocation(function: LambdaFunction) -> None:
    result = invoke(function, {"answer_bytes": 7_000_000})

    assert result.outcome.error_type == "Function.ResponseSizeTooLarge"


def test_past_the_concurrency_quota_an_invocation_is_throttled() -> None:
    quota = ConcurrencyQuota(limit=1)
    function = toy_function(quota=quota)
    try:
        busy = threading.Thread(target=invoke, args=(function, {"sleep": 1.5}))
        busy.start()
        while function.environments == 0:
            threading.Event().wait(0.01)

        throttled = invoke(function, {})

        busy.join()
        assert throttled.throttled
        assert throttled.outcome.error_type == "TooManyRequestsException"
        assert not invoke(function, {}).failed  # capacity is back once the first one ends
    finally:
        function.close()


def test_a_handler_that_fails_to_import_fails_init() -> None:
    logs = FunctionLogs()
    function = toy_function("broken_init.handler", logs=logs)
    try:
        result = invoke(function, {})
    finally:
        function.close()

    assert result.failed and result.cold_start
    assert "configuration missing" in result.outcome.error_message()
    assert function.environments == 0
    assert "configuration missing" in logs.text()
