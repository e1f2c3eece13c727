"""SQLite JobStore for the local server: one file in WAL mode, every state change in one transaction.

Rows keep the whole record as JSON (`body`) next to the columns that queries filter and sort on.
Transitions read and write inside `BEGIN IMMEDIATE`, so two workers can never both claim a job.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from imagegen.adapters.sqlite_db import SqliteDatabase
from imagegen.domain.cursor import cursor_sort_key, encode_cursor, format_time, sort_key
from imagegen.domain.errors import StorageError
from imagegen.domain.limits import ClientLimits, DayUsage, check, day_start, next_reset, utc_day
from imagegen.domain.models import Generation, Job, JobStatus
from imagegen.ports import JobQuery, Page

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id      TEXT PRIMARY KEY,
    owner       TEXT NOT NULL,
    status      TEXT NOT NULL,
    model       TEXT NOT NULL,
    prompt      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    sort_key    TEXT NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_owner ON jobs (owner, sort_key);
CREATE INDEX IF NOT EXISTS jobs_by_owner_status ON jobs (owner, status, sort_key);
CREATE INDEX IF NOT EXISTS jobs_unfinished ON jobs (status, sort_key);
CREATE TABLE IF NOT EXISTS generations (
    job_id      TEXT PRIMARY KEY,
    owner       TEXT NOT NULL,
    model       TEXT NOT NULL,
    prompt      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    sort_key    TEXT NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS generations_by_owner ON generations (owner, sort_key);
"""

_NON_TERMINAL = (JobStatus.PENDING.value, JobStatus.PROCESSING.value)


def _one_owner(jobs: Sequence[Job]) -> str:
    owners = {job.owner for job in jobs}
    if len(owners) != 1:
        raise ValueError("limits apply to the jobs of one owner at a time")
    return owners.pop()


RecordT = TypeVar("RecordT", Job, Generation)


class SqliteJobStore(SqliteDatabase):
    schema = _SCHEMA

    # ------------------------------------------------------------ writes

    async def create_jobs(self, jobs: Sequence[Job], limits: ClientLimits | None = None) -> None:
        try:
            self._insert_jobs(jobs, limits)
        except sqlite3.IntegrityError as exc:
            raise StorageError(f"could not create jobs: {exc}") from exc

    async def day_usage(self, owner: str, day: date) -> DayUsage:
        with self._lock:
            return self._day_usage(self._db, owner, day)

    def _day_usage(self, db: sqlite3.Connection, owner: str, day: date) -> DayUsage:
        (in_flight,) = db.execute(
            "SELECT COUNT(*) FROM jobs WHERE owner = ? AND status IN (?, ?)", (owner, *_NON_TERMINAL)
        ).fetchone()
        start, end = format_time(day_start(day)), format_time(next_reset(day))
        jobs_today, spend = db.execute(
            "SELECT COUNT(*), COALESCE(SUM(json_extract(body, '$.estimated_cost_usd')), 0) FROM jobs "
            "WHERE owner = ? AND sort_key >= ? AND sort_key < ?",
            (owner, start, end),
        ).fetchone()
        return DayUsage(day=day, in_flight=in_flight, jobs_today=jobs_today, spend_today_usd=float(spend))

    def _insert_jobs(self, jobs: Sequence[Job], limits: ClientLimits | None) -> None:
        with self._transaction() as db:
            if limits is not None and jobs:
                owner, day = _one_owner(jobs), utc_day(jobs[0].created_at)
                usage = self._day_usage(db, owner, day)
                check(limits, usage, len(jobs), sum(job.estimated_cost_usd or 0.0 for job in jobs))
            db.executemany(
                "INSERT INTO jobs (job_id, owner, status, model, prompt, created_at, sort_key, body) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        job.job_id,
                        job.owner,
                        job.status.value,
                        job.model,
                        job.prompt,
                        format_time(job.created_at),
                        sort_key(job.created_at, job.job_id),
                        job.model_dump_json(),
                    )
                    for job in jobs
                ],
            )

    async def get_job(self, job_id: str) -> Job | None:
        with self._lock:
            return self._read_job(self._db, job_id)

    async def claim_job(self, job_id: str, now: datetime, lease_seconds: float) -> Job | None:
        return self._transition(job_id, lambda job: job.claimed(now, lease_seconds))

    async def complete_job(self, job_id: str, generation: Generation, now: datetime) -> bool:
        with self._transaction() as db:
            job = self._read_job(db, job_id)
            done = job.completed(generation, now) if job else None
            if done is None:
                return False
            self._write_job(db, done)
            db.execute(
                "INSERT OR IGNORE INTO generations (job_id, owner, model, prompt, created_at, sort_key, body) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    generation.job_id,
                    generation.owner,
                    generation.model,
                    generation.prompt,
                    format_time(generation.created_at),
                    sort_key(generation.created_at, generation.job_id),
                    generation.model_dump_json(),
                ),
            )
            return True

    async def fail_job(self, job_id: str, reason: str, message: str, now: datetime) -> bool:
        return self._transition(job_id, lambda job: job.failed(reason, message, now)) is not None

    async def cancel_job(self, job_id: str, now: datetime) -> Job | None:
        self._transition(job_id, lambda job: job.cancelled(now))
        return await self.get_job(job_id)

    async def release_job(self, job_id: str, now: datetime, *, attempted: bool = True) -> bool:
        return self._transition(job_id, lambda job: job.released(now, attempted=attempted)) is not None

    def _transition(self, job_id: str, change: Callable[[Job], Job | None]) -> Job | None:
        """Apply a domain transition atomically; None when the job is missing or the transition does not apply."""
        with self._transaction() as db:
            job = self._read_job(db, job_id)
            changed = change(job) if job else None
            if changed is not None:
                self._write_job(db, changed)
            return changed

    async def delete_generation(self, job_id: str) -> bool:
        with self._transaction() as db:
            deleted = db.execute("DELETE FROM generations WHERE job_id = ?", (job_id,)).rowcount > 0
            job = self._read_job(db, job_id)
            if job is not None and job.image is not None:
                self._write_job(db, job.without_image())
            return deleted

    # ------------------------------------------------------------ reads

    async def get_generation(self, job_id: str) -> Generation | None:
        with self._lock:
            row = self._db.execute("SELECT body FROM generations WHERE job_id = ?", (job_id,)).fetchone()
        return Generation.model_validate_json(row[0]) if row else None

    async def list_jobs(self, query: JobQuery) -> Page[Job]:
        conditions, params = _filters(query)
        if query.statuses:
            conditions.append(f"status IN ({', '.join('?' for _ in query.statuses)})")
            params.extend(sorted(status.value for status in query.statuses))
        return self._page("jobs", Job, conditions, params, query)

    async def list_generations(self, query: JobQuery) -> Page[Generation]:
        conditions, params = _filters(query)
        return self._page("generations", Generation, conditions, params, query)

    async def unfinished_job_ids(self) -> list[str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT job_id FROM jobs WHERE status IN (?, ?) ORDER BY sort_key", _NON_TERMINAL
            ).fetchall()
        return [row[0] for row in rows]

    def _page(
        self,
        table: str,
        record: type[RecordT],
        conditions: list[str],
        params: list[Any],
        query: JobQuery,
    ) -> Page[RecordT]:
        where = " AND ".join(conditions) or "1=1"
        page_conditions: list[str] = list(conditions)
        page_params: list[Any] = list(params)
        if query.cursor:
            page_conditions.append("sort_key < ?")
            page_params.append(cursor_sort_key(query.cursor))
        page_where = " AND ".join(page_conditions) or "1=1"
        with self._lock:
            total = self._db.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}", params).fetchone()[0]  # noqa: S608
            rows = self._db.execute(
                f"SELECT body FROM {table} WHERE {page_where} ORDER BY sort_key DESC LIMIT ? OFFSET ?",  # noqa: S608
                [*page_params, query.limit + 1, query.offset],
            ).fetchall()
        items = [record.model_validate_json(row[0]) for row in rows[: query.limit]]
        next_cursor = None
        if len(rows) > query.limit and items:
            next_cursor = encode_cursor(items[-1].created_at, items[-1].job_id)
        return Page[record](items=items, next_cursor=next_cursor, total_count=total)  # type: ignore[valid-type]

    @staticmethod
    def _read_job(db: sqlite3.Connection, job_id: str) -> Job | None:
        row = db.execute("SELECT body FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        return Job.model_validate_json(row[0]) if row else None

    @staticmethod
    def _write_job(db: sqlite3.Connection, job: Job) -> None:
        db.execute(
            "UPDATE jobs SET status = ?, body = ? WHERE job_id = ?",
            (job.status.value, job.model_dump_json(), job.job_id),
        )


def _filters(query: JobQuery) -> tuple[list[str], list[Any]]:
    conditions: list[str] = []
    params: list[Any] = []
    if query.owner is not None:
        conditions.append("owner = ?")
        params.append(query.owner)
    if query.model:
        conditions.append("model = ?")
        params.append(query.model)
    if query.created_after:
        conditions.append("created_at > ?")
        params.append(format_time(query.created_after))
    if query.created_before:
        conditions.append("created_at < ?")
        params.append(format_time(query.created_before))
    if query.prompt_contains:
        conditions.append("instr(lower(prompt), lower(?)) > 0")
        params.append(query.prompt_contains)
    return conditions, params
