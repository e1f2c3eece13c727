"""The AWS runtime: DynamoDB + SQS + R2 + Workers AI, composed once per Lambda container.

Whatever depends on a credential (key ring, R2 client, Workers AI provider) is rebuilt when the secret's
value changes, so a rotated token takes effect within the secret cache's max age without a redeploy,
while boto3 clients and services live as long as the container.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

import boto3
from pydantic import SecretStr

from imagegen.adapters.aws import schema
from imagegen.adapters.aws.dynamodb_grants import DynamoDBGrantStore
from imagegen.adapters.aws.dynamodb_store import DynamoDBJobStore
from imagegen.adapters.aws.dynamodb_tasks import DynamoDBTaskStore
from imagegen.adapters.aws.r2_store import R2ImageStore, make_r2_client
from imagegen.adapters.aws.sqs_queue import SqsJobQueue
from imagegen.adapters.preview_provider import PREVIEW_PROVIDER_NAME
from imagegen.adapters.system_clock import SystemClock
from imagegen.adapters.watchers import PollingWatcher
from imagegen.adapters.workers_ai.settings import WorkersAISettings
from imagegen.domain.image_health import StoredObject
from imagegen.domain.limits import LimitsConfig
from imagegen.domain.models import ImageRef
from imagegen.mcp.context import AppContext
from imagegen.observability import current_correlation_id
from imagegen.ports import Clock, ImageProvider
from imagegen.runtime.aws_settings import AwsSecrets, AwsSettings, keyring_from_secrets, load_secrets
from imagegen.runtime.providers import select_provider
from imagegen.runtime.services import build_job_service, build_oauth_service, build_worker_service
from imagegen.services.delivery import DeliveryPolicy, DeliveryRules
from imagegen.services.oauth import OAuthService
from imagegen.services.tasks import TaskService
from imagegen.services.worker import WorkerService
from imagegen.web.auth import KeyRing

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

logger = logging.getLogger(__name__)

WORKERS_AI_PROVIDER_NAME = "workers-ai"

__all__ = ["AwsRuntime", "AwsSecrets", "AwsSettings", "load_secrets"]


T = TypeVar("T")


@dataclass(frozen=True)
class _Credentialed(Generic[T]):
    """Something built from one version of the secret's credentials."""

    fingerprint: str
    value: T


class AwsRuntime:
    """Adapters and services for one container: the handlers build it on first use and keep it warm."""

    def __init__(
        self,
        settings: AwsSettings,
        *,
        clock: Clock | None = None,
        secrets_loader: Callable[[AwsSettings], AwsSecrets] = load_secrets,
    ) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self._load_secrets = secrets_loader
        # boto3 clients are thread-safe; the adapters call them from worker threads.
        self.dynamodb = boto3.client("dynamodb")
        self.sqs = boto3.client("sqs")
        self.store = DynamoDBJobStore(settings.jobs_table, settings.generations_table, self.dynamodb)
        self.queue = SqsJobQueue(settings.queue_url, self.sqs, correlation=current_correlation_id)
        self.watcher = PollingWatcher(settings.poll_interval_seconds)
        self.jobs = build_job_service(settings, self.store, self.queue, self.watcher, self.clock)
        self.tasks = TaskService(DynamoDBTaskStore(settings.jobs_table, self.dynamodb), self.jobs, self.clock)
        self.limits = LimitsConfig.parse(settings.client_limits)
        self._lock = threading.Lock()
        self._keyring: _Credentialed[KeyRing] | None = None
        self._images: _Credentialed[R2ImageStore] | None = None
        self._worker: _Credentialed[WorkerService] | None = None
        self._oauth: OAuthService | None = None

    def secrets(self) -> AwsSecrets:
        return self._load_secrets(self.settings)

    def workers_ai_settings(self, secrets: AwsSecrets) -> WorkersAISettings:
        return WorkersAISettings(
            cloudflare_account_id=self.settings.cloudflare_account_id,
            cloudflare_api_token=secrets.cloudflare_api_token,
        )

    def provider_name(self, secrets: AwsSecrets) -> str:
        # The same test as WorkersAISettings.configured, without building settings on every request.
        configured = bool(self.settings.cloudflare_account_id and _reveal(secrets.cloudflare_api_token))
        return WORKERS_AI_PROVIDER_NAME if configured else PREVIEW_PROVIDER_NAME

    def keyring(self) -> KeyRing:
        secrets = self.secrets()
        fingerprint = secrets.fingerprint("auth_token", "auth_tokens", "admin_client")
        with self._lock:
            if self._keyring is None or self._keyring.fingerprint != fingerprint:
                self._keyring = _Credentialed(fingerprint, keyring_from_secrets(secrets, self.limits))
            return self._keyring.value

    def images(self) -> R2ImageStore:
        secrets = self.secrets()
        fingerprint = secrets.fingerprint("r2_access_key_id", "r2_secret_access_key")
        with self._lock:
            if self._images is None or self._images.fingerprint != fingerprint:
                self._images = _Credentialed(fingerprint, self._make_images(secrets))
            return self._images.value

    def _make_images(self, secrets: AwsSecrets) -> R2ImageStore:
        client: S3Client
        if self.settings.r2_endpoint_url:
            client = boto3.client(
                "s3",
                endpoint_url=self.settings.r2_endpoint_url,
                aws_access_key_id=_reveal(secrets.r2_access_key_id) or None,
                aws_secret_access_key=_reveal(secrets.r2_secret_access_key) or None,
            )
        else:
            if not self.settings.cloudflare_account_id:
                raise ValueError(f"{schema.ENV_R2_ACCOUNT_ID} is required to reach R2")
            client = make_r2_client(
                self.settings.cloudflare_account_id,
                _reveal(secrets.r2_access_key_id),
                _reveal(secrets.r2_secret_access_key),
                self.settings.r2_jurisdiction,
            )
        return R2ImageStore(self.settings.r2_bucket, self.settings.r2_public_base_url, client)

    def app_context(self, provider_name: str | None = None) -> AppContext:
        """What the MCP tools need; image reads (resources, thumbnails) follow secret rotation."""
        return AppContext(
            jobs=self.jobs,
            tasks=self.tasks,
            images=_CurrentImages(self),
            provider_name=provider_name or self.provider_name(self.secrets()),
        )

    def oauth(self) -> OAuthService:
        """The authorization server (API function only): its grants live in DynamoDB, so any container
        can carry on a flow another one started."""
        with self._lock:
            if self._oauth is None:
                if not self.settings.oauth_table:
                    raise ValueError(f"{schema.ENV_OAUTH_TABLE} is not set: the API keeps OAuth grants there")
                store = DynamoDBGrantStore(self.settings.oauth_table, self.dynamodb)
                self._oauth = build_oauth_service(self.settings, store, self.clock, self.settings.public_url)
            return self._oauth

    def delivery(self) -> DeliveryPolicy:
        """How a delivered SQS message is handled: SQS brings back what is not acknowledged, and moves a
        message to the dead-letter queue after `max_receive_count` deliveries."""
        rules = DeliveryRules(max_deliveries=self.settings.max_receive_count, queue_redelivers=True)
        return DeliveryPolicy(self.worker, self.store, self.queue, self.watcher, self.clock, rules)

    def worker(self) -> WorkerService:
        secrets = self.secrets()
        fingerprint = secrets.fingerprint("cloudflare_api_token", "r2_access_key_id", "r2_secret_access_key")
        with self._lock:
            current = self._worker
        if current is not None and current.fingerprint == fingerprint:
            return current.value
        provider: ImageProvider = select_provider(
            self.workers_ai_settings(secrets), self.settings.preview_latency_seconds
        )
        worker = build_worker_service(
            self.settings, self.store, self.images(), provider, self.watcher, self.clock
        )
        with self._lock:
            self._worker = _Credentialed(fingerprint, worker)
        return worker


class _CurrentImages:
    """The ImageStore port over whichever R2 store the current secret builds (it may rotate)."""

    def __init__(self, runtime: AwsRuntime) -> None:
        self._runtime = runtime

    def public_url(self, key: str) -> str:
        return self._runtime.images().public_url(key)

    async def put(self, key: str, data: bytes, content_type: str) -> ImageRef:
        return await self._runtime.images().put(key, data, content_type)

    async def get(self, key: str) -> tuple[bytes, str] | None:
        return await self._runtime.images().get(key)

    async def stat(self, key: str) -> StoredObject | None:
        return await self._runtime.images().stat(key)

    async def delete(self, key: str) -> None:
        await self._runtime.images().delete(key)


def _reveal(secret: SecretStr | None) -> str:
    return secret.get_secret_value() if secret is not None else ""
