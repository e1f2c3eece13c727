"""Each store contract runs against every adapter. Add a factory here to put a new store under it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

import pytest

from imagegen.adapters.sqlite_grants import SqliteGrantStore
from imagegen.adapters.sqlite_store import SqliteJobStore
from imagegen.adapters.sqlite_tasks import SqliteTaskStore
from imagegen.ports import GrantStore, JobStore, TaskStore
from tests.support.aws import dynamodb_grant_store, dynamodb_job_store, dynamodb_task_store

Factory = Callable[[Path], AbstractAsyncContextManager[Any]]


class Closable(Protocol):
    def close(self) -> None: ...


def on_sqlite(make: Callable[[Path], Closable]) -> Factory:
    @asynccontextmanager
    async def sqlite(tmp_path: Path) -> AsyncIterator[Any]:
        store = make(tmp_path / "jobs.db")
        try:
            yield store
        finally:
            store.close()

    return sqlite


STORE_FACTORIES: dict[str, Factory] = {
    "sqlite": on_sqlite(SqliteJobStore),
    "dynamodb": lambda _: dynamodb_job_store(),
}
TASK_STORE_FACTORIES: dict[str, Factory] = {
    "sqlite": on_sqlite(SqliteTaskStore),
    "dynamodb": lambda _: dynamodb_task_store(),
}
GRANT_STORE_FACTORIES: dict[str, Factory] = {
    "sqlite": on_sqlite(SqliteGrantStore),
    "dynamodb": lambda _: dynamodb_grant_store(),
}


@pytest.fixture(params=sorted(STORE_FACTORIES))
async def job_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[JobStore]:
    async with STORE_FACTORIES[request.param](tmp_path) as store:
        yield store


@pytest.fixture(params=sorted(TASK_STORE_FACTORIES))
async def task_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[TaskStore]:
    async with TASK_STORE_FACTORIES[request.param](tmp_path) as store:
        yield store


@pytest.fixture(params=sorted(GRANT_STORE_FACTORIES))
async def grant_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[GrantStore]:
    async with GRANT_STORE_FACTORIES[request.param](tmp_path) as store:
        yield store
