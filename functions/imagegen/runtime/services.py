"""Build the services from settings and ports: shared by every runtime, so they behave alike."""

from __future__ import annotations

from imagegen.adapters.client_documents import HttpClientDocuments
from imagegen.ports import Clock, GrantStore, ImageProvider, ImageStore, JobQueue, JobStore, JobWatcher
from imagegen.services.jobs import JobService
from imagegen.services.oauth import OAuthService
from imagegen.services.worker import WorkerService
from imagegen.settings import ServiceSettings
from imagegen.web.routes import MCP_PATH


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


def build_oauth_service(
    settings: ServiceSettings, store: GrantStore, clock: Clock, public_url: str
) -> OAuthService:
    """The authorization server for the MCP endpoint at `public_url` + /mcp: its tokens are bound to it."""
    documents = HttpClientDocuments(
        timeout_seconds=settings.client_metadata_timeout_seconds,
        private_hosts=settings.client_metadata_private_hosts,
        ca_file=settings.client_metadata_ca_file,
    )
    return OAuthService(store, documents, clock, resource=f"{public_url.rstrip('/')}{MCP_PATH}")
