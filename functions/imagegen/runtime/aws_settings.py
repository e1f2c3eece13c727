"""What the Lambda functions are configured with: plain settings from environment variables (named in
`adapters.aws.schema`, set by the CDK app) and credentials from one Secrets Manager secret, read through
Powertools parameters, which caches it for `secret_max_age_seconds`.

Without a secret ARN (tests, a debugger) the secret's keys are read from environment variables of the
same names.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from imagegen.adapters.aws import schema
from imagegen.domain.caller import DEFAULT_OWNER
from imagegen.domain.limits import LimitsConfig
from imagegen.runtime import deployment
from imagegen.settings import CsvList, ServiceSettings
from imagegen.web.auth import KeyRing, parse_token_map


class AwsSettings(ServiceSettings):
    """What the Lambda functions (and `serve --backend aws`) read from the environment."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    jobs_table: str = Field(validation_alias=schema.ENV_JOBS_TABLE)
    generations_table: str = Field(validation_alias=schema.ENV_GENERATIONS_TABLE)
    oauth_table: str | None = Field(
        default=None,
        validation_alias=schema.ENV_OAUTH_TABLE,
        description="OAuth clients, grants and tokens; only the API function is given it.",
    )
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
    public_url_setting: str | None = Field(default=None, validation_alias=schema.ENV_PUBLIC_URL)
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

    @property
    def public_url(self) -> str:
        """Where clients reach the API: configured, else the first name it is served on."""
        if self.public_url_setting:
            return self.public_url_setting.rstrip("/")
        return f"https://{self.allowed_hosts[0]}" if self.allowed_hosts else "https://localhost"


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


def load_secrets(settings: AwsSettings) -> AwsSecrets:
    if not settings.secret_arn:
        return AwsSecrets.model_validate(
            {key: os.environ[key] for key in schema.SECRET_KEYS if os.environ.get(key)}
        )
    # Imported here: Powertools parameters pulls in its providers, which only this path needs.
    from aws_lambda_powertools.utilities import parameters

    raw = parameters.get_secret(
        settings.secret_arn, transform="json", max_age=settings.secret_max_age_seconds
    )
    if not isinstance(raw, dict):
        raise ValueError("the imagegen secret must be a JSON object")
    return AwsSecrets.model_validate({key: value for key, value in raw.items() if value not in (None, "")})


def keyring_from_secrets(secrets: AwsSecrets, limits: LimitsConfig | None = None) -> KeyRing:
    tokens: dict[str, str] = {}
    if secrets.auth_token is not None:
        tokens[DEFAULT_OWNER] = secrets.auth_token.get_secret_value()
    if secrets.auth_tokens is not None:
        tokens.update(parse_token_map(secrets.auth_tokens.get_secret_value()))
    if not tokens:
        raise ValueError(f"the secret holds no {schema.SECRET_AUTH_TOKEN} or {schema.SECRET_AUTH_TOKENS}")
    return KeyRing.from_tokens(tokens, secrets.admin_client, limits)
