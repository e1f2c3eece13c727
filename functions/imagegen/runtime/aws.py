"""The AWS runtime: DynamoDB + SQS + R2 + Workers AI, composed once per Lambda container.

Plain configuration comes from environment variables (named in `adapters.aws.schema`, set by the CDK
app); credentials come from one Secrets Manager secret read through Powertools parameters, which caches
it for `secret_max_age_seconds`. Whatever depends on a credential (key ring, R2 client, Workers AI
provider) is rebuilt when the secret's value changes, so a rotated token takes effect within that
window without a redeploy, while boto3 clients and services live as long as the container.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import boto3
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from imagegen.adapters.aws import schema
from imagegen.adapters.aws.dynamodb_store import DynamoDBJobStore
from imagegen.adapters.aws.r2_store import R2ImageStore, make_r2_client
from imagegen.adapters.aws.sqs_queue import SqsJobQueue
from imagegen.adapters.preview_provider import PREVIEW_PROVIDER_NAME
from imagegen.adapters.watchers import PollingWatcher
from imagegen.adapters.workers_ai.settings import WorkersAISettings
from imagegen.clock import SystemClock
from imagegen.domain.models import ImageRef
from imagegen.mcp.context import AppContext
from imagegen.observability import current_correlation_id
from imagegen.ports import Clock, ImageProvider
from imagegen.runtime import deployment
from imagegen.runtime.providers import select_provider
from imagegen.runtime.services import build_job_service, build_worker_service
from imagegen.services.delivery import DeliveryPolicy, DeliveryRules
from imagegen.services.worker import WorkerService
from imagegen.settings import CsvList, ServiceSettings
from imagegen.web.auth import KeyRing, parse_token_map

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

logger = logging.getLogger(__name__)

WORKERS_AI_PROVIDER_NAME = "workers-ai"


class AwsSettings(ServiceSettings):
    """What the Lambda functions (and `serve --backend aws`) read from the environment."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    jobs_table: str = Field(validation_alias=schema.ENV_JOBS_TABLE)
    generations_table: str = Field(validation_alias=schema.ENV_GENERATIONS_TABLE)
    queue_url: str = Field(validation_alias=schema.ENV_QUEUE_URL)
    r2_bucket: str = Field(validation_alias=schema.ENV_R2_BUCKET)
    r2_public_base_url: str = Field(validation_alias=schema.ENV_R2_PUBLIC_BASE_URL)
    cloudflare_account_id: str | None = Field(default=None, validation_alias=schema.ENV_R2_ACCOUNT_ID)
    r2_jurisdiction: str | None = Field(default=None, validation_alias=schema.ENV_R2_JURISDICTION)
    r2_endpoint_url: str | None = Field(
        default=None,
        validation_alias="R2_ENDPOINT_URL",
        description="Override R2's endpoint, e.g. a local S3 emulator for `serve --backend aws`.",
    )
    secret_arn: str | None = Field(
        default=None,
        validation_alias=schema.ENV_SECRET_ARN,
        description="Without it the secret's keys are read from environment variables of the same names.",
    )
    secret_max_age_seconds: int = Field(default=300, ge=0)
    allowed_hosts: CsvList = Field(default_factory=list, validation_alias=schema.ENV_ALLOWED_HOSTS)
    allowed_origins: CsvList = Field(default_factory=list, validation_alias=schema.ENV_ALLOWED_ORIGINS)
    wait_timeout_seconds: float = Field(
        default=deployment.MAX_WAIT_SECONDS,
        gt=0,
        le=deployment.MAX_WAIT_SECONDS,
        validation_alias=schema.ENV_WAIT_TIMEOUT,
        description="The longest wait a tool offers; each request's own deadline shortens it further.",
    )
    max_receive_count: int = Field(
        default=schema.DEFAULT_MAX_RECEIVE_COUNT, ge=1, validation_alias=schema.ENV_MAX_RECEIVE_COUNT
    )
    poll_interval_seconds: float = Field(default=0.25, gt=0, le=5)


class AwsSecrets(BaseModel):
    """The credentials in the one secret (keys per `schema.SECRET_*`)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    auth_token: SecretStr | None = Field(default=None, alias=schema.SECRET_AUTH_TOKEN)
    auth_tokens: SecretStr | None = Field(default=None, alias=schema.SECRET_AUTH_TOKENS)
    admin_client: str | None = Field(default=None, alias=schema.SECRET_ADMIN_CLIENT)
    cloudflare_api_token: SecretStr | None = Field(default=None, alias=schema.SECRET_CLOUDFLARE_API_TOKEN)
    r2_access_key_id: SecretStr | None = Field(default=None, alias=schema.SECRET_R2_ACCESS_KEY_ID)
    r2_secret_access_key: SecretStr | None = Field(default=None, alias=schema.SECRET_R2_SECRET_ACCESS_KEY)

    @field_validator("auth_tokens", mode="before")
    @classmethod
    def _tokens_as_text(cls, value: object) -> object:
        # The secret may hold AUTH_TOKENS as a JSON object rather than as a string.
        return json.dumps(value) if isinstance(value, Mapping) else value

    def fingerprint(self, *fields: str) -> str:
        """A digest of some credentials, to notice rotation without keeping old values around."""
        digest = hashlib.sha256()
        for name in fields:
            value = getattr(self, name)
            raw = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
            digest.update(name.encode() + b"\0" + raw.encode() + b"\0")
        return digest.hexdigest()


_SECRET_KEYS = (
    schema.SECRET_AUTH_TOKEN,
    schema.SECRET_AUTH_TOKENS,
    schema.SECRET_ADMIN_CLIENT,
    schema.SECRET_CLOUDFLARE_API_TOKEN,
    schema.SECRET_R2_ACCESS_KEY_ID,
    schema.SECRET_R2_SECRET_ACCESS_KEY,
)


def load_secrets(settings: AwsSettings) -> AwsSecrets:
    if not settings.secret_arn:
        return AwsSecrets.model_validate(
            {key: os.environ[key] for key in _SECRET_KEYS if os.environ.get(key)}
        )
    # Imported here: Powertools parameters pulls in its providers, which only this path needs.
    from aws_lambda_powertools.utilities import parameters

    raw = parameters.get_secret(
        settings.secret_arn, transform="json", max_age=settings.secret_max_age_seconds
    )
    if not isinstance(raw, dict):
        raise ValueError("the imagegen secret must be a JSON object")
    return AwsSecrets.model_validate({key: value for key, value in raw.items() if value not in (None, "")})


def keyring_from(secrets: AwsSecrets) -> KeyRing:
    tokens: dict[str, str] = {}
    if secrets.auth_token is not None:
        tokens["default"] = secrets.auth_token.get_secret_value()
    if secrets.auth_tokens is not None:
        tokens.update(parse_token_map(secrets.auth_tokens.get_secret_value()))
    if not tokens:
        raise ValueError(f"the secret holds no {schema.SECRET_AUTH_TOKEN} or {schema.SECRET_AUTH_TOKENS}")
    return KeyRing.from_tokens(tokens, secrets.admin_client)


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
        self._lock = threading.Lock()
        self._keyring: _Credentialed[KeyRing] | None = None
        self._images: _Credentialed[R2ImageStore] | None = None
        self._worker: _Credentialed[WorkerService] | None = None

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
                self._keyring = _Credentialed(fingerprint, keyring_from(secrets))
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
            images=_CurrentImages(self),
            provider_name=provider_name or self.provider_name(self.secrets()),
        )

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

    async def delete(self, key: str) -> None:
        await self._runtime.images().delete(key)


def _reveal(secret: SecretStr | None) -> str:
    return secret.get_secret_value() if secret is not None else ""


_thread_loops = threading.local()


def container_loop() -> asyncio.AbstractEventLoop:
    """One event loop per thread for the container's life, set as the thread's current loop.

    Clients bound to a loop (the Workers AI provider's httpx pool) then survive from one invocation to
    the next, and Mangum, which calls `asyncio.get_event_loop()`, runs on the same loop.
    """
    loop: asyncio.AbstractEventLoop | None = getattr(_thread_loops, "loop", None)
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        _thread_loops.loop = loop
    asyncio.set_event_loop(loop)
    return loop


def container_batch_processor() -> Any:
    """A Powertools AsyncBatchProcessor that runs every batch on `container_loop()`.

    Powertools reuses one loop only when LAMBDA_TASK_ROOT is set and calls `asyncio.run` elsewhere, which
    would close the provider's httpx pool after the first batch of `serve --backend aws` and of tests.
    """
    from aws_lambda_powertools.utilities.batch import AsyncBatchProcessor, EventType

    class ContainerLoopBatchProcessor(AsyncBatchProcessor):
        def async_process(self) -> list[tuple[Any, ...]]:
            async def process_all() -> list[tuple[Any, ...]]:
                return list(
                    await asyncio.gather(*(self._async_process_record(record) for record in self.records))
                )

            return container_loop().run_until_complete(process_all())

    # A batch whose every record failed is still a partial response (all ids listed), not an invocation
    # error: each message keeps its own receive count and the Lambda Errors metric means real crashes.
    return ContainerLoopBatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
