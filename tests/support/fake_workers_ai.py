"""The fake Workers AI server on a free loopback port, and provider settings that point at it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr
from starlette.applications import Starlette

from imagegen.adapters.workers_ai.settings import WorkersAISettings
from imagegen.fakes.workers_ai_server import FakeCall, create_fake_workers_ai_app
from tests.support.servers import free_port, serve_in_thread

FAKE_TOKEN = "fake-token-for-tests"


@dataclass
class FakeWorkersAI:
    app: Starlette
    base_url: str

    @property
    def calls(self) -> list[FakeCall]:
        calls: list[FakeCall] = self.app.state.fake.calls
        return calls

    def settings(self, **overrides: Any) -> WorkersAISettings:
        values: dict[str, Any] = {
            "cloudflare_account_id": "local-account",
            "cloudflare_api_token": SecretStr(FAKE_TOKEN),
            "workers_ai_base_url": f"{self.base_url}/client/v4",
            "workers_ai_timeout_seconds": 10.0,
            "workers_ai_max_retries": 0,
            **overrides,
        }
        return WorkersAISettings(**values)


@contextmanager
def fake_workers_ai(latency_seconds: float = 0.0) -> Iterator[FakeWorkersAI]:
    app = create_fake_workers_ai_app(token=FAKE_TOKEN, latency_seconds=latency_seconds)
    with serve_in_thread(app, free_port()) as url:
        yield FakeWorkersAI(app=app, base_url=url)
