"""Instruments: a provider of exact, known latency, a store wrapper that timestamps completions, and an
ASGI middleware that times requests inside the server.

Every timestamp is `time.perf_counter()`, which is one monotonic clock for the whole process, so instants
taken on the server's thread (provider, store) and on the client's thread compare directly.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from imagegen.adapters.preview_provider import PreviewProvider
from imagegen.domain.models import Generation
from imagegen.ports import GeneratedImage, GenerationRequest, JobStore

PROVIDER_NAME = "bench-fixed-latency"


@dataclass(frozen=True)
class PoolConfig:
    """A run's size: how many jobs, how many generated at once, and how long each generation takes."""

    jobs: int
    concurrency: int
    latency: float


async def rendered_image(model: str = "flux-schnell") -> GeneratedImage:
    """One full-size (1024x1024) preview image, drawn once and then served by every provider call."""
    return await PreviewProvider().generate(GenerationRequest(model=model, prompt="benchmark image"))


@dataclass(frozen=True)
class ProviderCall:
    prompt: str
    started: float
    returned: float

    @property
    def seconds(self) -> float:
        return self.returned - self.started


class FixedLatencyProvider:
    """An ImageProvider that takes `latency` seconds and returns a pre-rendered image.

    Nothing is drawn per call, so the time spent in the provider is the sleep alone; each call records
    when it started and the instant just before it returned.
    """

    def __init__(self, latency: float, image: GeneratedImage) -> None:
        self.latency = latency
        self._image = image
        self.calls: list[ProviderCall] = []

    @property
    def name(self) -> str:
        return PROVIDER_NAME

    async def generate(self, request: GenerationRequest) -> GeneratedImage:
        started = time.perf_counter()
        await asyncio.sleep(self.latency)
        self.calls.append(ProviderCall(request.prompt, started, time.perf_counter()))
        return self._image

    def by_prompt(self) -> dict[str, ProviderCall]:
        return {call.prompt: call for call in self.calls}


CompleteJob = Callable[[str, Generation, datetime], Awaitable[bool]]


@dataclass
class CompletionRecorder:
    """Wraps one store instance's `complete_job` and records the instant each call returned True.

    The worker holds the same store object, so it calls the wrapper; nothing in `functions/` changes.
    """

    store: JobStore
    completed_at: dict[str, float] = field(default_factory=dict)
    on_complete: Callable[[str], None] | None = None

    def __post_init__(self) -> None:
        original: CompleteJob = self.store.complete_job

        async def complete_job(job_id: str, generation: Generation, now: datetime) -> bool:
            changed = await original(job_id, generation, now)
            if changed:
                self.completed_at[job_id] = time.perf_counter()
                if self.on_complete is not None:
                    self.on_complete(job_id)
            return changed

        self.store.complete_job = complete_job  # type: ignore[method-assign]

    async def instant(self, job_id: str, timeout: float = 5.0) -> float:
        """When `complete_job` returned True for this job, waiting briefly if it has not returned yet.

        A reader on another thread can see the committed row a moment before the store call returns to
        the worker (DynamoDB via boto3 in a thread); the caller decides how to count that.
        """
        deadline = time.perf_counter() + timeout
        while job_id not in self.completed_at:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"complete_job never returned True for {job_id}")
            await asyncio.sleep(0.001)
        return self.completed_at[job_id]


class RequestTimer:
    """ASGI middleware: server-side time of every MCP POST, from the request's arrival to the response's
    last byte, keyed by JSON-RPC method (`tools/call` by tool name). It sees what the server does and
    none of the client's own work."""

    def __init__(self, app: ASGIApp, path: str = "/mcp") -> None:
        self._app = app
        self._path = path
        self.seconds: defaultdict[str, list[float]] = defaultdict(list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self._path or scope["method"] != "POST":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        body = bytearray()

        async def receiving() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                body.extend(message.get("body", b""))
            return message

        async def sending(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                key = _rpc_key(bytes(body))
                if key is not None:
                    self.seconds[key].append(time.perf_counter() - started)

        await self._app(scope, receiving, sending)


def _rpc_key(body: bytes) -> str | None:
    try:
        message = json.loads(body)
    except ValueError:
        return None
    if not isinstance(message, dict) or "id" not in message:
        return None  # notifications and batches are not timed
    method = message.get("method")
    if method == "tools/call":
        return str(message.get("params", {}).get("name"))
    return str(method).replace("tools/list", "list_tools")
