"""Where moto's in-memory AWS differs from AWS in ways the emulated stack would notice, make it behave
like AWS. Each patch is process-wide, idempotent and a no-op without moto.

- **DynamoDB transactions are serializable.** moto's are not: a transaction snapshots the tables, applies
  its items one by one and, if a condition fails, restores the snapshot, which also throws away whatever
  another request wrote in between. Under concurrent requests that loses jobs and lets two calls both take
  a limit's last slot. One lock around the backend's item operations restores DynamoDB's isolation.
- **SQS fair queues.** A standard queue whose messages carry a `MessageGroupId` delivers the messages of
  quiet groups before those of a group with a backlog. moto delivers in arrival order. The patch orders
  the visible messages round robin between groups, groups with fewer messages in flight first, which is
  the behaviour AWS documents (the exact algorithm is not published).
- **SQS deletes never drop a concurrent send.** moto rebuilds a queue's message list on delete without the
  lock its sends take, so a message sent during a delete can vanish; the patch takes that lock.
"""

from __future__ import annotations

import functools
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, Protocol

DYNAMODB_ITEM_OPERATIONS = (
    "put_item",
    "get_item",
    "update_item",
    "delete_item",
    "query",
    "scan",
    "transact_write_items",
)
_MARK = "__imagegen_patched__"
_dynamodb_lock = threading.RLock()  # re-entrant: a transaction calls the item operations itself


class _Message(Protocol):
    group_id: str | None

    @property
    def visible(self) -> bool: ...


def make_moto_behave_like_aws() -> None:
    try:
        from moto.dynamodb.models import DynamoDBBackend
        from moto.sqs.models import Queue, SQSBackend
    except ImportError:
        return
    for name in DYNAMODB_ITEM_OPERATIONS:
        _patch(DynamoDBBackend, name, _serialized)
    _patch(SQSBackend, "receive_message", _fair_receive)
    _patch(Queue, "delete_message", _locked_delete)


def fair_order(messages: Iterable[_Message], in_flight: Counter[str]) -> list[Any]:
    """Visible messages round robin between groups, a group's n-th message ranked after the messages
    other groups have in flight; messages without a group are each a group of their own."""
    ranked: list[tuple[int, int, Any]] = []
    seen: Counter[str] = Counter()
    for position, message in enumerate(messages):
        group = message.group_id or f"\0{position}"
        ranked.append((in_flight[group] + seen[group], position, message))
        seen[group] += 1
    return [message for _, _, message in sorted(ranked, key=lambda entry: entry[:2])]


def _patch(owner: type, name: str, wrap: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    original = getattr(owner, name)
    if getattr(original, _MARK, False):
        return
    patched = functools.wraps(original)(wrap(original))
    setattr(patched, _MARK, True)
    setattr(owner, name, patched)


def _serialized(operation: Callable[..., Any]) -> Callable[..., Any]:
    def run_alone(*args: Any, **kwargs: Any) -> Any:
        with _dynamodb_lock:
            return operation(*args, **kwargs)

    return run_alone


def _fair_receive(receive: Callable[..., Any]) -> Callable[..., Any]:
    def receive_fairly(backend: Any, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        queue = backend.get_queue(queue_name)
        if not queue.fifo_queue:
            with queue._messages_lock:
                messages = list(queue._messages)
                if any(message.group_id for message in messages):
                    in_flight = Counter(
                        message.group_id for message in messages if message.group_id and not message.visible
                    )
                    visible = [message for message in messages if message.visible]
                    hidden = [message for message in messages if not message.visible]
                    queue._messages = fair_order(visible, in_flight) + hidden
        return receive(backend, queue_name, *args, **kwargs)

    return receive_fairly


def _locked_delete(delete: Callable[..., Any]) -> Callable[..., Any]:
    def delete_locked(queue: Any, *args: Any, **kwargs: Any) -> Any:
        with queue._messages_lock:
            return delete(queue, *args, **kwargs)

    return delete_locked
