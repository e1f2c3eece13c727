"""Build the two services from settings and ports: shared by every runtime, so they behave alike."""

from __future__ import annotations

from imagegen.ports import Clock, ImageProvider, ImageStore, JobQueue, JobStore, JobWatcher
from imagegen.services.jobs import JobService
from imagegen.services.worker import WorkerService
from imagegen.settings import ServiceSettings


def build_job_service(
    settings: ServiceSettings, store: JobStore, queue: JobQueue, watcher: JobWatcher, clock: Clock
) -> JobService:
    return JobService(
        store,
        queue,
        watcher,
        clock,
        default_wait_seconds=settings.wait_timeout_seconds,
        max_wait_seconds=settings.wait_timeout_seconds,
        progress_interval_seconds=settings.progress_interval_seconds,
    )


def build_worker_service(
    settings: ServiceSettings,
    store: JobStore,
    images: ImageStore,
    provider: ImageProvider,
    watcher: JobWatcher,
    clock: Clock,
) -> WorkerService:
    return WorkerService(
        store,
        images,
        provider,
        watcher,
        clock,
        lease_seconds=settings.job_lease_seconds,
        max_attempts=settings.max_attempts,
    )
