"""TaskStore on SQLite: the task records live in the local server's database, next to its jobs."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from imagegen.adapters.sqlite_db import SqliteDatabase
from imagegen.domain.cursor import cursor_sort_key, encode_cursor, format_time, sort_key
from imagegen.domain.errors import StorageError
from imagegen.domain.tasks import TaskPage, TaskRecord

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    task_id     TEXT PRIMARY KEY,
    owner       TEXT NOT NULL,
    sort_key    TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tasks_by_owner ON tasks (owner, sort_key);
CREATE INDEX IF NOT EXISTS tasks_by_expiry ON tasks (expires_at);
"""


class SqliteTaskStore(SqliteDatabase):
    schema = _SCHEMA

    async def create_task(self, record: TaskRecord) -> None:
        try:
            with self._lock:
                # Ended tasks go as new ones arrive: the table never outgrows the living tasks by much.
                self._db.execute("DELETE FROM tasks WHERE expires_at <= ?", (format_time(record.created_at),))
                self._db.execute(
                    "INSERT INTO tasks (task_id, owner, sort_key, expires_at, body) VALUES (?, ?, ?, ?, ?)",
                    (
                        record.task_id,
                        record.owner,
                        sort_key(record.created_at, record.task_id),
                        format_time(record.expires_at),
                        record.model_dump_json(),
                    ),
                )
        except sqlite3.Error as exc:
            raise StorageError(f"could not store task: {exc}") from exc

    async def get_task(self, task_id: str, now: datetime) -> TaskRecord | None:
        with self._lock:
            row = self._db.execute(
                "SELECT body FROM tasks WHERE task_id = ? AND expires_at > ?", (task_id, format_time(now))
            ).fetchone()
        return TaskRecord.model_validate_json(row[0]) if row else None

    async def list_tasks(self, owner: str, now: datetime, limit: int, cursor: str | None) -> TaskPage:
        conditions, params = ["owner = ?", "expires_at > ?"], [owner, format_time(now)]
        if cursor:
            conditions.append("sort_key < ?")
            params.append(cursor_sort_key(cursor))
        with self._lock:
            rows = self._db.execute(
                f"SELECT body FROM tasks WHERE {' AND '.join(conditions)} ORDER BY sort_key DESC LIMIT ?",  # noqa: S608
                [*params, limit + 1],
            ).fetchall()
        records = [TaskRecord.model_validate_json(row[0]) for row in rows[:limit]]
        more = len(rows) > limit and records
        return TaskPage(
            records=records,
            next_cursor=encode_cursor(records[-1].created_at, records[-1].task_id) if more else None,
        )

    async def cancel_task(self, task_id: str, now: datetime) -> TaskRecord | None:
        with self._transaction() as db:
            row = db.execute(
                "SELECT body FROM tasks WHERE task_id = ? AND expires_at > ?", (task_id, format_time(now))
            ).fetchone()
            record = TaskRecord.model_validate_json(row[0]) if row else None
            if record is not None and record.cancelled_at is None:
                record = record.model_copy(update={"cancelled_at": now})
                db.execute("UPDATE tasks SET body = ? WHERE task_id = ?", (record.model_dump_json(), task_id))
        return record
