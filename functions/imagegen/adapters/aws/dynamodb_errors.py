"""DynamoDB's errors in domain terms: a store raises StorageError, never a botocore exception; a lost
condition is `ConditionFailed`, which the store turns into its own answer."""

from __future__ import annotations

import asyncio
import functools
import random
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from imagegen.domain.errors import StorageError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

R = TypeVar("R")

# DynamoDB cancels concurrent transactions that touch the same item (a shared counter item, one grant),
# and allows 100 actions in one transaction.
CONFLICT_RETRIES = 8
MAX_TRANSACTION_ITEMS = 100


class ConditionFailed(Exception):
    """A conditional write lost: the item changed since it was read (or exists/does not exist)."""

    def __init__(self, failed: frozenset[int]) -> None:
        super().__init__(f"condition failed on transaction items {sorted(failed)}")
        self.failed = failed


def transact_write(client: DynamoDBClient, items: Sequence[TransactWriteItemTypeDef]) -> None:
    """TransactWriteItems, retried on conflicts with full jitter; a failed condition raises
    ConditionFailed naming the items (by position) whose condition failed."""
    if len(items) > MAX_TRANSACTION_ITEMS:
        raise ValueError(f"a transaction holds at most {MAX_TRANSACTION_ITEMS} items, got {len(items)}")
    for attempt in range(CONFLICT_RETRIES):
        # A token per attempt: when the SDK resends this call after a lost response, DynamoDB answers with
        # the first outcome instead of failing conditions that the first attempt already changed.
        token = str(uuid.uuid4())
        try:
            client.transact_write_items(TransactItems=list(items), ClientRequestToken=token)
            return
        except ClientError as exc:
            codes = cancellation_codes(exc)
            failed = frozenset(index for index, code in codes.items() if code == "ConditionalCheckFailed")
            if failed:
                raise ConditionFailed(failed) from None
            retryable = "TransactionConflict" in codes.values() or error_code(exc) in {
                "TransactionConflictException",
                "TransactionInProgressException",
            }
            if not retryable or attempt == CONFLICT_RETRIES - 1:
                raise StorageError(f"store write failed: {describe(exc)}") from None
        except BotoCoreError as exc:
            raise StorageError(f"store unreachable: {exc}") from None
        # Full jitter: the losers of a conflict must not collide again in lockstep.
        time.sleep(random.uniform(0, 0.02 * 2**attempt))


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
