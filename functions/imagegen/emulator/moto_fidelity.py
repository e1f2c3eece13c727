"""DynamoDB's isolation for moto: item operations and transactions run one at a time.

DynamoDB runs each transaction as a serializable unit. moto's in-memory backend does not: a transaction
snapshots the tables, applies its items one by one and, if a condition fails, restores the snapshot, which
also throws away whatever another request wrote in between. Under concurrent requests (the emulated stack
runs many functions at once) that loses jobs and lets two calls both take a limit's last slot, which real
DynamoDB never does. One lock around the backend's item operations restores DynamoDB's semantics; the
per-request cost is a few microseconds and moto is never the bottleneck here.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

ITEM_OPERATIONS = (
    "put_item",
    "get_item",
    "update_item",
    "delete_item",
    "query",
    "scan",
    "transact_write_items",
)
_MARK = "__imagegen_serialized__"
_lock = threading.RLock()  # re-entrant: a transaction calls the item operations itself


def serialize_moto_dynamodb() -> None:
    """Patch moto's DynamoDB backend in this process (idempotent); a no-op without moto."""
    try:
        from moto.dynamodb.models import DynamoDBBackend
    except ImportError:
        return
    for name in ITEM_OPERATIONS:
        operation = getattr(DynamoDBBackend, name)
        if not getattr(operation, _MARK, False):
            setattr(DynamoDBBackend, name, _serialized(operation))


def _serialized(operation: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(operation)
    def run_alone(*args: Any, **kwargs: Any) -> Any:
        with _lock:
            return operation(*args, **kwargs)

    setattr(run_alone, _MARK, True)
    return run_alone
