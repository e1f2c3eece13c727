from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from imagegen.adapters.local_images import LocalImageStore
from imagegen.adapters.local_queue import InProcessQueue
from imagegen.adapters.sqlite_store import SqliteJobStore
from imagegen.adapters.watchers import InProcessWatcher
from imagegen.services.jobs import JobService
from imagegen.services.worker import WorkerService
from tests.support.builders import StepClock
from tests.support.providers import ScriptedProvider


@dataclass
class Core:
    store: SqliteJobStore
    images: LocalImageStore
    queue: InProcessQueue
    watcher: InProcessWatcher
    provider: ScriptedProvider
    clock: StepClock
    jobs: JobService
    worker: WorkerService


@pytest.fixture
async def core(tmp_path: Path) -> AsyncIterator[Core]:
    """The real local adapters wired to the services, with a scripted provider and a stepping clock."""
    store = SqliteJobStore(tmp_path / "jobs.db")
    images = LocalImageStore(tmp_path / "images", "http://img.test")
    queue = InProcessQueue()
    watcher = InProcessWatcher()
    provider = ScriptedProvider()
    clock = StepClock()
    jobs = JobService(
        store,
        queue,
        watcher,
        clock,
        default_wait_seconds=2,
        max_wait_seconds=5,
        progress_interval_seconds=0.2,
    )
    worker = WorkerService(store, images, provider, watcher, clock, lease_seconds=60, max_attempts=3)
    yield Core(store, images, queue, watcher, provider, clock, jobs, worker)
    store.close()
