"""Ports: the interfaces the core needs from the outside world.

Adapters implement them for one machine (SQLite, in-process queue, local folder, preview provider) and
for the cloud (DynamoDB, SQS, R2, Workers AI). One contract test suite per port runs against every adapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime
from typing import Generic, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, ConfigDict

from imagegen.domain.image_health import StoredObject
from imagegen.domain.limits import ClientLimits, DayUsage
from imagegen.domain.models import Generation, GenerationParams, ImageRef, Job, JobStatus
from imagegen.domain.oauth import AuthorizationCode, ConsentRequest, Grant, Issue, IssuedToken, OAuthClient
from imagegen.domain.tasks import TaskPage, TaskRecord

# ---------------------------------------------------------------- queries and pages


class JobQuery(BaseModel):
    """A page request over jobs or generations, newest first.

    `owner=None` means every owner (admin keys only). `cursor` is the opaque position returned as
    `next_cursor` by the previous page; `offset` is kept for compatibility with the original server.
    """

    model_config = ConfigDict(frozen=True)

    owner: str | None
    statuses: frozenset[JobStatus] | None = None
    model: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    prompt_contains: str | None = None
    limit: int = 10
    offset: int = 0
    cursor: str | None = None


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None
    total_count: int | None = None


# ---------------------------------------------------------------- stores


@runtime_checkable
class JobStore(Protocol):
    async def create_jobs(self, jobs: Sequence[Job], limits: ClientLimits | None = None) -> None:
        """Insert new jobs atomically (all or none): at most MAX_BATCH (20), what one generate call makes.

        With `limits` (the jobs' one owner's), the check against what that owner has in flight and has
        started on the jobs' UTC day is part of the same atomic step: LimitExceeded inserts nothing, and
        two calls can never both take the last slot. A job id that exists already raises StorageError.
        """

    async def day_usage(self, owner: str, day: date) -> DayUsage:
        """What `owner` has in flight now, and the jobs and estimated cost it started on `day` (UTC)."""

    async def get_job(self, job_id: str) -> Job | None: ...

    async def claim_job(self, job_id: str, now: datetime, lease_seconds: float) -> Job | None:
        """Move a pending job, or a processing job whose lease has expired, to processing.

        Returns the claimed job, or None when it is missing, terminal, or leased by a live worker.
        Two workers racing for one job: exactly one wins.
        """

    async def complete_job(self, job_id: str, generation: Generation, now: datetime) -> bool:
        """processing -> completed and record the generation, atomically and at most once.

        Returns False (and changes nothing) when the job is not processing any more (cancelled, done).
        """

    async def fail_job(self, job_id: str, reason: str, message: str, now: datetime) -> bool:
        """Any non-terminal state -> failed. Returns False when the job is already terminal."""

    async def cancel_job(self, job_id: str, now: datetime) -> Job | None:
        """Any non-terminal state -> cancelled. Returns the job as it now is, or None when missing."""

    async def release_job(self, job_id: str, now: datetime, *, attempted: bool = True) -> bool:
        """processing -> pending, so that a retry can claim it again (transient provider error).

        `attempted=False` gives the job back as if it had never been claimed (a clean shutdown): the
        attempt the claim counted is taken back.
        """

    async def list_jobs(self, query: JobQuery) -> Page[Job]: ...

    async def list_generations(self, query: JobQuery) -> Page[Generation]: ...

    async def get_generation(self, job_id: str) -> Generation | None: ...

    async def delete_generation(self, job_id: str) -> bool:
        """Remove the history entry and the job's image reference (the job stays completed, image None).

        Returns False when there was no history entry.
        """

    async def unfinished_job_ids(self) -> list[str]:
        """Pending and processing jobs, oldest first: what a restarted local server must pick up again."""


class QueuedMessage(BaseModel):
    """One delivery of a job id by a queue."""

    model_config = ConfigDict(frozen=True)

    job_id: str
    group: str = ""  # whose job it is: queues share their deliveries fairly between groups
    delivery_count: int = 1
    receipt: str = ""  # the queue's handle for this delivery (an SQS receipt handle)


class TaskStore(Protocol):
    """MCP task records (what a task's jobs cannot tell), kept until their lifetime ends."""

    async def create_task(self, record: TaskRecord) -> None:
        """Store a new task; durable (readable by any instance) once this returns."""

    async def get_task(self, task_id: str, now: datetime) -> TaskRecord | None:
        """The task, or None when it does not exist or its lifetime has ended."""

    async def list_tasks(self, owner: str, now: datetime, limit: int, cursor: str | None) -> TaskPage:
        """The owner's living tasks, newest first; `cursor` continues where a page ended."""

    async def cancel_task(self, task_id: str, now: datetime) -> TaskRecord | None:
        """Mark the task cancelled (once: a second cancel keeps the first time). None if it is gone."""


class JobQueue(Protocol):
    async def enqueue(self, job_ids: Sequence[str], group: str) -> None:
        """Hand jobs to the worker side in one batch operation.

        `group` is the client the jobs belong to: a queue serves groups fairly, so that one client's
        backlog never holds up another client's job for more than one generation.
        """

    async def redeliver(self, message: QueuedMessage, delay_seconds: float) -> bool:
        """Bring a delivered message back after `delay_seconds` instead of on the queue's own terms.

        Returns False when the queue refused; the message then comes back when it would anyway.
        """


class JobChanges(Protocol):
    async def wait(self, timeout: float) -> bool:
        """Return when a watched job may have changed since the last call (or since subscribing),
        or after `timeout` seconds. False once the watcher has closed (the server is stopping): no
        change will be seen any more, so the waiter should answer now."""


class JobWatcher(Protocol):
    """Wakes waiters when a job changes. Locally an in-process signal; on AWS a short poll."""

    def watch(self, job_ids: Sequence[str]) -> AbstractAsyncContextManager[JobChanges]:
        """Subscribe to changes of these jobs for the duration of the block."""

    def notify(self, job_id: str) -> None:
        """Tell waiters this job changed (a no-op where changes cannot be observed in-process)."""


class ImageStore(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> ImageRef: ...

    async def get(self, key: str) -> tuple[bytes, str] | None:
        """The object's bytes and content type, or None."""

    async def stat(self, key: str) -> StoredObject | None:
        """The object's size and content type without reading it (a HEAD, a stat), or None if absent."""

    async def delete(self, key: str) -> None:
        """Remove the object; deleting a missing object is not an error."""

    def public_url(self, key: str) -> str: ...


# ---------------------------------------------------------------- OAuth


@runtime_checkable
class GrantStore(Protocol):
    """Where OAuth clients, pending consents, codes, grants and tokens live between requests.

    Secrets are looked up by their digest (`key`); the store never sees a secret itself. Records carry
    their own expiry: readers check it (DynamoDB's TTL deletes late, and SQLite only when asked), so an
    expired record that still exists is refused by the service, not by the store. Every step that must
    happen at most once (taking a consent, redeeming a code, rotating a refresh token) is atomic: of
    two concurrent calls exactly one succeeds.
    """

    async def save_client(self, client: OAuthClient) -> None:
        """Insert or replace (a metadata document fetched again replaces its cached copy)."""

    async def get_client(self, client_id: str) -> OAuthClient | None: ...

    async def save_consent(self, key: str, consent: ConsentRequest) -> None: ...

    async def get_consent(self, key: str) -> ConsentRequest | None: ...

    async def take_consent(self, key: str) -> ConsentRequest | None:
        """Remove and return it: the person's decision is acted on once."""

    async def save_code(self, key: str, code: AuthorizationCode) -> None: ...

    async def get_code(self, key: str) -> AuthorizationCode | None: ...

    async def redeem_code(self, key: str, issue: Issue) -> bool:
        """Mark the code redeemed by `issue.grant` and write the grant and its tokens, all or nothing.

        False (and nothing written) when the code is gone or was redeemed already.
        """

    async def get_token(self, key: str) -> IssuedToken | None: ...

    async def rotate_refresh_token(self, key: str, issue: Issue) -> bool:
        """Mark the refresh token rotated at `issue.access.issued_at`, write the new tokens and update the
        grant, all or nothing. False (and nothing written) when the token was rotated already or the grant
        was revoked meanwhile."""

    async def get_grant(self, grant_id: str) -> Grant | None: ...

    async def revoke_grant(self, grant_id: str, now: datetime, because: str) -> bool:
        """False when there is no such grant or it was revoked already."""

    async def list_grants(self, owner: str | None) -> list[Grant]:
        """Every grant of `owner` (None: of everyone), newest first, revoked and expired ones included."""

    async def forget_expired(self, now: datetime) -> None:
        """Delete what expired before `now` where the store does not do it by itself."""


class ClientDocument(BaseModel):
    """A fetched Client ID Metadata Document: its JSON object, and how long it may be cached."""

    model_config = ConfigDict(frozen=True)

    body: dict[str, object]
    max_age_seconds: int | None = None


class ClientDocumentSource(Protocol):
    async def fetch(self, url: str) -> ClientDocument:
        """GET the document at an https URL, or raise ClientDocumentUnavailable saying why not (not https,
        a private address, too slow, too large, not a JSON object, not a 200)."""


# ---------------------------------------------------------------- provider


class GenerationRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    model: str
    prompt: str
    params: GenerationParams = GenerationParams()


class GeneratedImage(BaseModel):
    model_config = ConfigDict(frozen=True)

    data: bytes
    content_type: str
    extension: str
    width: int | None = None
    height: int | None = None


class ImageProvider(Protocol):
    @property
    def name(self) -> str:
        """Shown on every result: which provider made the image (e.g. 'workers-ai', 'preview')."""

    async def generate(self, request: GenerationRequest) -> GeneratedImage:
        """Produce one image or raise ProviderError with a reason code."""


class Clock(Protocol):
    def now(self) -> datetime: ...
