"""DynamoDB's errors in domain terms: a store raises StorageError, never a botocore exception."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from imagegen.domain.errors import StorageError

R = TypeVar("R")


async def call_off_loop(fn: Callable[..., R], /, **kwargs: Any) -> R:
    """Run a blocking boto3 call off the event loop and turn SDK errors into domain errors."""
    return await asyncio.to_thread(functools.partial(translate_errors, fn, **kwargs))


def translate_errors(fn: Callable[..., R], **kwargs: Any) -> R:
    try:
        return fn(**kwargs)
    except ClientError as exc:
        raise StorageError(f"job store request failed: {describe(exc)}") from None
    except BotoCoreError as exc:
        raise StorageError(f"job store unreachable: {exc}") from None


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def describe(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    return f"{error.get('Code', 'error')}: {error.get('Message', '')}"


def cancellation_codes(exc: ClientError) -> dict[int, str]:
    """Why each item of a cancelled transaction failed, by position ('None' items were fine)."""
    if error_code(exc) != "TransactionCanceledException":
        return {}
    reasons: list[Mapping[str, Any]] = exc.response.get("CancellationReasons") or []  # type: ignore[assignment]
    return {
        index: str(reason["Code"])
        for index, reason in enumerate(reasons)
        if reason.get("Code") not in (None, "None")
    }
