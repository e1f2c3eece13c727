"""What the Workers AI adapter is configured with, read from the environment (or given by a runtime)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class WorkersAISettings(BaseSettings):
    """Cloudflare Workers AI. The provider is used only when account id and token are both set."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    cloudflare_account_id: str | None = None
    cloudflare_api_token: SecretStr | None = None
    workers_ai_base_url: str = "https://api.cloudflare.com/client/v4"
    ai_gateway_id: str | None = None
    ai_gateway_base_url: str = "https://gateway.ai.cloudflare.com/v1"
    workers_ai_timeout_seconds: float | None = Field(
        default=None,
        gt=0,
        description="Per-request timeout. Unset: each model's latency ceiling from the catalog, so a slow "
        "model is never cut off by a limit meant for fast ones.",
    )
    workers_ai_max_retries: int = Field(default=3, ge=0, le=10)
    workers_ai_retry_budget_seconds: float = Field(default=20.0, ge=0)
    workers_ai_rate_limit_per_minute: int = Field(default=720, ge=1)

    @property
    def configured(self) -> bool:
        return bool(self.cloudflare_account_id and self.cloudflare_api_token)
