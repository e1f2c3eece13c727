"""Deployment settings, read from CDK context and validated once before any construct is built.

Every key has a default, so `cdk synth` works on a fresh clone with no context at all. The defaults that
stand for the operator's own Cloudflare account are placeholders that pass validation; `uses_placeholders`
tells the app to warn before they reach a real deployment.

Set values in cdk.json ("context") or per command: `npx cdk deploy -c stage=prod -c r2_bucket=my-images`.
Values given with `-c` arrive as strings, so lists are also accepted as comma-separated text.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from imagegen.domain.limits import LimitsConfig
from imagegen.runtime import deployment

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LAYER_PATH = REPO_ROOT / "layers" / "build"

PLACEHOLDER_ACCOUNT_ID = "0" * 32
PLACEHOLDER_PUBLIC_BASE_URL = "https://images.example.com"

# CloudWatch Logs accepts only these retention periods; anything else fails at deploy time.
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip

# Workers AI's 720 requests/minute bound calls in flight; see imagegen.runtime.deployment.
MAX_CALLS_IN_FLIGHT = deployment.MAX_CALLS_IN_FLIGHT
MIN_POLLER_CONCURRENCY = deployment.MIN_EVENT_SOURCE_CONCURRENCY

_HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

Stage = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,19}$")]


class ConfigError(ValueError):
    """Raised with one readable line per problem, naming the context key to fix."""


class DeployConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    stage: Stage = Field(
        default="dev", description="Names the stack imagegen-<stage>; lowercase letters, digits, '-'."
    )
    cloudflare_account_id: str = Field(
        default=PLACEHOLDER_ACCOUNT_ID,
        pattern=r"^[0-9a-f]{32}$",
        description="Cloudflare account id (32 hex characters) for Workers AI and the R2 endpoint.",
    )
    r2_bucket: str = Field(
        default="imagegen-images",
        pattern=r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$",
        description="R2 bucket name: 3-63 lowercase letters, digits and '-'.",
    )
    r2_public_base_url: str = Field(
        default=PLACEHOLDER_PUBLIC_BASE_URL,
        description="Public base URL of the bucket (custom domain or https://pub-<id>.r2.dev).",
    )
    r2_jurisdiction: Literal["default", "eu"] = "default"
    allowed_origins: tuple[str, ...] = Field(
        default=(), description="Browser origins allowed to call the API (CORS and the MCP Origin check)."
    )
    custom_domain: str | None = Field(default=None, description="e.g. mcp.example.com; needs a certificate.")
    custom_domain_certificate_arn: str | None = Field(
        default=None,
        pattern=r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]+$",
        description="ACM certificate for custom_domain, in the stack's region.",
    )
    worker_reserved_concurrency: int = Field(
        default=0,
        ge=0,
        le=MAX_CALLS_IN_FLIGHT // MIN_POLLER_CONCURRENCY,
        description="Opt-in: concurrency reserved for the worker (at least 2, at most 12 / "
        "worker_batch_size). 0, the default, reserves none: the event source's maximum concurrency bounds "
        "the worker, and the deploy works on new accounts whose whole concurrency quota is 10.",
    )
    worker_batch_size: int = Field(
        default=deployment.DEFAULT_WORKER_BATCH_SIZE,
        ge=1,
        le=MAX_CALLS_IN_FLIGHT // MIN_POLLER_CONCURRENCY,
        description="Jobs per worker invocation, processed concurrently (1-6).",
    )
    client_limits: str | None = Field(
        default=None,
        description='Fair-use limits per key as JSON, e.g. {"*": {"jobs_in_flight": 20, "images_per_day": '
        '1000, "daily_spend_usd": 2.0}}. Unset: those defaults for every key.',
    )
    log_retention_days: int = 30
    alarm_email: str | None = Field(default=None, description="Receives alarm e-mails through SNS.")
    api_rate_limit: int = Field(default=20, ge=1, le=10_000, description="Steady requests per second.")
    api_burst_limit: int = Field(default=40, ge=1, le=5_000)
    tracing: bool = Field(default=True, description="X-Ray active tracing for both functions.")
    retain_data: bool = Field(
        default=True, description="Keep the tables (deletion protection on) when the stack is deleted."
    )
    layer_path: Path = Field(
        default=DEFAULT_LAYER_PATH,
        description="Directory holding python/ for the dependency layer (built by `make layer`).",
    )

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(item.strip() for item in value.split(",") if item.strip())
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _check_origins(cls, origins: tuple[str, ...]) -> tuple[str, ...]:
        for origin in origins:
            parts = urlsplit(origin)
            if parts.scheme not in {"http", "https"} or not parts.netloc or parts.path or parts.query:
                raise ValueError(f"{origin!r} is not an origin like https://app.example.com")
        return tuple(origin.lower() for origin in origins)

    @field_validator("r2_public_base_url")
    @classmethod
    def _check_public_base_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.netloc or parts.query or parts.fragment:
            raise ValueError(f"{url!r} must be an https URL such as https://images.example.com")
        return url.rstrip("/")

    @field_validator("client_limits", mode="before")
    @classmethod
    def _limits_as_json(cls, value: object) -> object:
        # cdk.json may hold the object itself; -c passes the JSON text.
        if isinstance(value, dict):
            return json.dumps(value)
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("client_limits")
    @classmethod
    def _check_limits(cls, value: str | None) -> str | None:
        if value is not None:
            LimitsConfig.parse(value)  # raises with a message naming the expected shape
        return value

    @field_validator("custom_domain", "alarm_email", "custom_domain_certificate_arn", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in {"", "none", "null"}:
            return None
        return value

    @field_validator("custom_domain")
    @classmethod
    def _check_domain(cls, domain: str | None) -> str | None:
        if domain is not None and not _HOSTNAME.match(domain.lower()):
            raise ValueError(f"{domain!r} is not a host name such as mcp.example.com")
        return None if domain is None else domain.lower()

    @field_validator("alarm_email")
    @classmethod
    def _check_email(cls, email: str | None) -> str | None:
        if email is not None and not _EMAIL.match(email):
            raise ValueError(f"{email!r} is not an e-mail address")
        return email

    @field_validator("log_retention_days")
    @classmethod
    def _check_retention(cls, days: int) -> int:
        if days not in LOG_RETENTION_DAYS:
            allowed = ", ".join(str(value) for value in LOG_RETENTION_DAYS)
            raise ValueError(f"{days} is not a CloudWatch Logs retention period; use one of {allowed}")
        return days

    @field_validator("worker_reserved_concurrency")
    @classmethod
    def _check_concurrency(cls, value: int) -> int:
        # A reservation below the poller's minimum would throttle it, and each throttled delivery counts
        # as a receive that walks a healthy message towards the dead-letter queue.
        if 0 < value < MIN_POLLER_CONCURRENCY:
            raise ValueError(f"must be 0 (no reservation) or at least {MIN_POLLER_CONCURRENCY}")
        return value

    @field_validator("layer_path")
    @classmethod
    def _absolute_layer_path(cls, path: Path) -> Path:
        return path if path.is_absolute() else REPO_ROOT / path

    @model_validator(mode="after")
    def _check_pairs(self) -> DeployConfig:
        if self.custom_domain and not self.custom_domain_certificate_arn:
            raise ValueError(
                "custom_domain needs custom_domain_certificate_arn (an ACM certificate for that name in "
                "the stack's region)"
            )
        if self.custom_domain_certificate_arn and not self.custom_domain:
            raise ValueError("custom_domain_certificate_arn is set but custom_domain is not")
        in_flight = self.worker_max_concurrency * self.worker_batch_size
        if in_flight > MAX_CALLS_IN_FLIGHT:
            raise ValueError(
                f"worker_reserved_concurrency x worker_batch_size allows {in_flight} Workers AI calls at "
                f"once; keep it at or below {MAX_CALLS_IN_FLIGHT} so the account's 720 requests/minute "
                "limit holds"
            )
        if self.api_burst_limit < self.api_rate_limit:
            raise ValueError("api_burst_limit must be at least api_rate_limit")
        return self

    @property
    def stack_name(self) -> str:
        return f"imagegen-{self.stage}"

    @property
    def worker_max_concurrency(self) -> int:
        """Concurrency the SQS poller may use: never above the reservation, so it is never throttled."""
        return deployment.worker_max_concurrency(self.worker_batch_size, self.worker_reserved_concurrency)

    @property
    def uses_placeholders(self) -> list[str]:
        keys = []
        if self.cloudflare_account_id == PLACEHOLDER_ACCOUNT_ID:
            keys.append("cloudflare_account_id")
        if self.r2_public_base_url == PLACEHOLDER_PUBLIC_BASE_URL:
            keys.append("r2_public_base_url")
        return keys


FIELDS = tuple(DeployConfig.model_fields)


def load_config(context: Mapping[str, Any]) -> DeployConfig:
    """Build the config from CDK context; unrelated keys (feature flags, CLI state) are ignored."""
    _reject_likely_typos(context)
    values = {key: context[key] for key in FIELDS if context.get(key) is not None}
    try:
        return DeployConfig.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, values)) from None


def _reject_likely_typos(context: Mapping[str, Any]) -> None:
    # Feature flags and CLI bookkeeping ("@aws-cdk/...", "aws:cdk:...", "acknowledged-issue-numbers") share
    # the context, so only a near miss of one of our keys is treated as a mistake.
    for key in context:
        if key in FIELDS or "@" in key or ":" in key:
            continue
        close = difflib.get_close_matches(key, FIELDS, n=1, cutoff=0.8)
        if close:
            raise ConfigError(f"unknown context key {key!r}; did you mean {close[0]!r}?")


def _describe(exc: ValidationError, values: Mapping[str, Any]) -> str:
    lines = ["invalid CDK context (set it in cdk.json or with -c key=value):"]
    for error in exc.errors(include_url=False):
        key = ".".join(str(part) for part in error["loc"]) or "(config)"
        message = error["msg"].removeprefix("Value error, ")
        field = DeployConfig.model_fields.get(key)
        if field is not None and field.description and error["type"] != "value_error":
            message = f"{message} ({field.description})"
        if key in values:
            lines.append(f"  {key}={values[key]!r}: {message}")
        else:
            lines.append(f"  {key}: {message}")
    return "\n".join(lines)
