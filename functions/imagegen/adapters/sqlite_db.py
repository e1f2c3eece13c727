"""The local server's SQLite database: one file, opened the same way by every store that keeps data in it."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar


def open_database(path: Path | str, schema: str) -> sqlite3.Connection:
    """A connection in autocommit mode (stores open their own transactions), with WAL so that readers never
    wait for the writer, and the store's tables created if they are missing."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA busy_timeout=5000")
    db.executescript(schema)
    return db


class SqliteDatabase:
    """A store's connection to the database, with its tables (`schema`), and the lock that keeps the
    connection's statements one at a time across the threads that call the store."""

    schema: ClassVar[str]

    def __init__(self, path: Path | str) -> None:
        self._db = open_database(path, self.schema)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that takes the write lock at once, so its reads see what it will change."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
