"""The AWS runtime's JobWatcher: the worker Lambda writes DynamoDB from another process, so waiters poll.

A 0.25 s poll wakes a wait tool within a quarter second of completion for one strongly consistent
GetItem per job per poll; the implementation is shared with the local adapters.
"""

from __future__ import annotations

from imagegen.adapters.watchers import PollingWatcher

__all__ = ["PollingWatcher"]
