"""Typed settings from the environment, read lazily and cached. Tests build their own instances."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import BeforeValidator, Field, SecretStr
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        if value.strip().startswith("["):
            return json.loads(value)
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


# A list setting written 'a,b,c' (or as a JSON list). NoDecode stops pydantic-settings from insisting on JSON.
CsvList = Annotated[list[str], NoDecode, BeforeValidator(_split_csv)]


class ServiceSettings(BaseSettings):
    """Behaviour shared by every runtime."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    wait_timeout_seconds: float = Field(
        default=45.0,
        gt=0,
        le=3600,
        description="Longest a wait tool blocks. Keep it below the client's tool timeout (60 s by default).",
    )
    progress_interval_seconds: float = Field(default=5.0, gt=0)
    client_limits: str | None = Field(
        default=None,
        description='Fair-use limits per key as JSON: {"*": {"jobs_in_flight": 20, "images_per_day": 1000, '
        '"daily_spend_usd": 2.0}, "alice": {...}}; null for no limit. Unset: those defaults for every key.',
    )
    job_lease_seconds: float = Field(default=300.0, gt=0)
    max_attempts: int = Field(default=3, ge=1, le=20)
    preview_latency_seconds: float = Field(default=0.3, ge=0)
    log_level: str = "INFO"
    client_metadata_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        le=20,
        description="How long the server waits for an OAuth client's metadata document (its client id URL).",
    )
    client_metadata_private_hosts: CsvList = Field(
        default_factory=list,
        description="Hosts (name or name:port) whose client metadata documents may be fetched from private "
        "addresses, such as an internal client registry. Public clients never need this.",
    )
    client_metadata_ca_file: Path | None = Field(
        default=None,
        description="Extra CA certificates (PEM) trusted when fetching client metadata documents.",
    )


class LocalSettings(ServiceSettings):
    """`imagegen serve`: one process with SQLite, a local image folder and an in-process worker pool."""

    host: str = "127.0.0.1"
    port: int = Field(default=8787, ge=0, le=65535)
    auth_token: SecretStr | None = None
    auth_tokens: SecretStr | None = Field(
        default=None, description="Several keys: 'name1:token1,name2:token2'. Optional admin: 'admin=name'."
    )
    auth_tokens_file: Path | None = Field(
        default=None, description="A JSON file mapping client names to tokens, instead of AUTH_TOKENS."
    )
    admin_client: str | None = Field(
        default=None, description="Name of the key that sees every client's jobs."
    )
    imagegen_data_dir: Path = Path(".data")
    public_base_url: str | None = Field(
        default=None, description="Base URL image links use; defaults to http://HOST:PORT."
    )
    allowed_hosts: CsvList = Field(default_factory=list)
    allowed_origins: CsvList = Field(default_factory=list)
    cors_allowed_origins: CsvList = Field(
        default_factory=list,
        description="Browser origins allowed to call /mcp (CORS). Empty: no CORS headers.",
    )
    worker_concurrency: int = Field(default=4, ge=1, le=64)
    shutdown_grace_seconds: int = Field(
        default=5,
        ge=0,
        le=300,
        description="On SIGTERM/Ctrl-C, how long open requests may finish before they are cut off.",
    )
    max_request_body_bytes: int = Field(default=1_000_000, ge=1024)

    @property
    def base_url(self) -> str:
        if self.public_base_url:
            return self.public_base_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


@lru_cache(maxsize=1)
def local_settings() -> LocalSettings:
    return LocalSettings()
