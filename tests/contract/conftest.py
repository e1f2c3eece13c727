"""The JobStore contract runs against every adapter. Add a factory here to put a new store under it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest

from imagegen.adapters.sqlite_store import SqliteJobStore
from imagegen.ports import JobStore
from tests.support.aws import dynamodb_job_store

StoreFactory = Callable[[Path], AbstractAsyncContextManager[JobStore]]


@asynccontextmanager
async def sqlite_store(tmp_path: Path) -> AsyncIterator[JobStore]:
    store = SqliteJobStore(tmp_path / "jobs.db")
    try:
        yield store
    finally:
        store.close()


@asynccontextmanager
async def dynamodb_store(tmp_path: Path) -> AsyncIterator[JobStore]:
    async with dynamodb_job_store() as store:
        yield store


STORE_FACTORIES: dict[str, StoreFactory] = {"sqlite": sqlite_store, "dynamodb": dynamodb_store}


@pytest.fixture(params=sorted(STORE_FACTORIES))
async def job_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[JobStore]:
    async with STORE_FACTORIES[request.param](tmp_path) as store:
        yield store
