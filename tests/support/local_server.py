"""A running local imagegen server plus an authenticated `mcp` client factory for tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from starlette.applications import Starlette

from imagegen.adapters.preview_provider import PreviewProvider
from imagegen.domain.limits import EVERYONE, UNLIMITED, LimitsConfig
from imagegen.ports import ImageProvider
from imagegen.runtime.local import LocalRuntime
from imagegen.settings import LocalSettings
from imagegen.web.auth import KeyRing
from tests.support.servers import free_port, serve_in_thread

TOKEN = "test-token-0123456789abcdef"
NO_LIMITS = LimitsConfig(by_owner={EVERYONE: UNLIMITED})


@dataclass
class LocalServer:
    url: str
    token: str
    runtime: LocalRuntime
    settings: LocalSettings

    @property
    def mcp_url(self) -> str:
        return f"{self.url}/mcp"

    def client(
        self, token: str | None = None, mode: str = "legacy", **kwargs: Any
    ) -> AbstractAsyncContextManager[Client]:
        return connect(self.mcp_url, token or self.token, mode=mode, **kwargs)


@asynccontextmanager
async def connect(mcp_url: str, token: str, mode: str = "legacy", **kwargs: Any) -> AsyncIterator[Client]:
    """The real `mcp` client over Streamable HTTP with a bearer token, for any running server."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=120)) as http:
        transport = streamable_http_client(mcp_url, http_client=http)
        async with Client(transport, mode=mode, **kwargs) as client:
            yield client


@contextmanager
def local_server(
    data_dir: Path,
    *,
    provider: ImageProvider | None = None,
    keyring: KeyRing | None = None,
    wrap_app: Callable[[Starlette], Any] | None = None,
    **overrides: Any,
) -> Iterator[LocalServer]:
    """Serve the local app on a free port; `wrap_app` may put ASGI middleware around it (benchmarks)."""
    port = overrides.pop("port", None) or free_port()
    settings = LocalSettings(
        host="127.0.0.1",
        port=port,
        imagegen_data_dir=data_dir,
        wait_timeout_seconds=overrides.pop("wait_timeout_seconds", 10),
        progress_interval_seconds=overrides.pop("progress_interval_seconds", 0.5),
        **overrides,
    )
    runtime = LocalRuntime(settings, provider or PreviewProvider(latency_seconds=0.05))
    # No limits unless a test is about them: session-wide servers would otherwise run into a day's quota.
    app = runtime.web_app(keyring or KeyRing.from_settings(TOKEN, None, limits=NO_LIMITS))
    with serve_in_thread(wrap_app(app) if wrap_app else app, port) as url:
        yield LocalServer(url=url, token=TOKEN, runtime=runtime, settings=settings)
