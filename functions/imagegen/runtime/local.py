"""The local runtime: SQLite + local image folder + in-process queue and worker pool, in one process."""

from __future__ import annotations

import asyncio
import logging

from starlette.applications import Starlette

from imagegen.adapters.local_images import LocalImageStore
from imagegen.adapters.local_queue import InProcessQueue, LocalWorkerPool
from imagegen.adapters.sqlite_grants import SqliteGrantStore
from imagegen.adapters.sqlite_store import SqliteJobStore
from imagegen.adapters.sqlite_tasks import SqliteTaskStore
from imagegen.adapters.system_clock import SystemClock
from imagegen.adapters.watchers import InProcessWatcher
from imagegen.domain.errors import ReasonCode
from imagegen.mcp.context import AppContext
from imagegen.observability import log_context
from imagegen.ports import Clock, ImageProvider, QueuedMessage
from imagegen.runtime.services import build_job_service, build_oauth_service, build_worker_service
from imagegen.services.delivery import DeliveryPolicy, DeliveryRules, Verdict
from imagegen.services.tasks import TaskService
from imagegen.settings import LocalSettings
from imagegen.web.auth import KeyRing
from imagegen.web.local_app import create_local_app

logger = logging.getLogger(__name__)

# A transient failure comes back after this long: the in-process queue needs no backoff against a
# service of its own, and the provider already spaces its retries.
LOCAL_REDELIVERY_SECONDS = 1.0


class LocalRuntime:
    def __init__(self, settings: LocalSettings, provider: ImageProvider, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        data_dir = settings.imagegen_data_dir
        self.store = SqliteJobStore(data_dir / "imagegen.db")
        self.grants = SqliteGrantStore(data_dir / "imagegen.db")
        self.images = LocalImageStore(data_dir / "images", settings.base_url)
        self.queue = InProcessQueue()
        self.watcher = InProcessWatcher()
        self.provider = provider
        self.jobs = build_job_service(settings, self.store, self.queue, self.watcher, self.clock)
        self.worker = build_worker_service(
            settings, self.store, self.images, provider, self.watcher, self.clock
        )
        # Nothing brings a local message back unless the policy asks: a crash fails the job at once, and
        # a restart requeues whatever was unfinished (`start`).
        self.delivery = DeliveryPolicy(
            lambda: self.worker,
            self.store,
            self.queue,
            self.watcher,
            self.clock,
            DeliveryRules(
                max_deliveries=None, queue_redelivers=False, backoff=lambda _: LOCAL_REDELIVERY_SECONDS
            ),
        )
        self.pool = LocalWorkerPool(self.queue, self._deliver, concurrency=settings.worker_concurrency)
        self._draining: asyncio.Future[None] | None = None
        self.task_store = SqliteTaskStore(data_dir / "imagegen.db")
        self.context = AppContext(
            jobs=self.jobs,
            tasks=TaskService(self.task_store, self.jobs, self.clock),
            images=self.images,
            provider_name=provider.name,
        )
        self.oauth = build_oauth_service(settings, self.grants, self.clock, settings.base_url)

    def web_app(self, keyring: KeyRing) -> Starlette:
        """The local server's ASGI app, which starts and stops this runtime with it."""
        return create_local_app(self.settings, self.context, self.images, keyring, self, self.oauth)

    async def _deliver(self, message: QueuedMessage) -> Verdict:
        with log_context(job_id=message.job_id):
            verdict = await self.delivery.handle(message)
            result = verdict.result
            outcome = result.outcome.value if result else verdict.disposition.value
            attempt = f" (attempt {result.attempt})" if result and result.attempt else ""
            why = (result.reason if result else None) or verdict.detail
            logger.info("job %s%s: %s%s", message.job_id, attempt, outcome, f": {why}" if why else "")
        return verdict

    async def start(self) -> int:
        """Start the workers and queue every job a previous run left unfinished. Returns how many."""
        now = self.clock.now()
        unfinished = await self.store.unfinished_job_ids()
        requeue: dict[str, list[str]] = {}
        for job_id in unfinished:
            job = await self.store.get_job(job_id)
            if job is not None and job.attempts >= self.settings.max_attempts:
                # It was being generated each time the process died: stop before it takes the server down again.
                message = f"Stopped after {job.attempts} attempts that each ended with the server stopping."
                await self.store.fail_job(job_id, ReasonCode.INTERNAL_ERROR.value, message, now)
                continue
            if job is None:
                continue
            # Nothing else runs on this database, so a 'processing' job belongs to a process that died
            # mid-job (a clean stop gives its jobs back): the attempt it used stays counted.
            await self.store.release_job(job_id, now)
            requeue.setdefault(job.owner, []).append(job_id)
        self.pool.start()
        for owner, job_ids in requeue.items():
            await self.queue.enqueue(job_ids, owner)
        recovered = sum(len(job_ids) for job_ids in requeue.values())
        if recovered:
            logger.info("recovered %d unfinished job(s) from a previous run", recovered)
        return recovered

    async def drain(self) -> None:
        """The server was asked to stop: take no more work, give running jobs back without counting an
        attempt, and let every wait answer now instead of holding up the exit. Safe to call twice."""
        if self._draining is None:
            self.watcher.close()
            self._draining = asyncio.ensure_future(self.pool.stop())
        await asyncio.shield(self._draining)

    async def stop(self) -> None:
        await self.drain()
        close = getattr(self.provider, "aclose", None)
        if close is not None:
            await close()
        self.store.close()
        self.task_store.close()
        self.grants.close()
