"""Port-level provider doubles for service tests. HTTP to Workers AI is tested with respx elsewhere."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from imagegen.adapters.preview_provider import PreviewProvider
from imagegen.ports import GeneratedImage, GenerationRequest


class ScriptedProvider:
    """Draws real preview images, but first raises the scripted errors in order (None = succeed)."""

    def __init__(
        self,
        script: list[Exception | None] | None = None,
        *,
        latency: float = 0.0,
        before_return: Callable[[GenerationRequest], None] | None = None,
    ) -> None:
        self.script = list(script or [])
        self.latency = latency
        self.calls: list[GenerationRequest] = []
        self.before_return = before_return
        self.release = asyncio.Event()
        self.release.set()
        self._preview = PreviewProvider()

    @property
    def name(self) -> str:
        return "scripted"

    async def generate(self, request: GenerationRequest) -> GeneratedImage:
        self.calls.append(request)
        if self.latency:
            await asyncio.sleep(self.latency)
        await self.release.wait()
        step = self.script.pop(0) if self.script else None
        if step is not None:
            raise step
        if self.before_return:
            self.before_return(request)
        return await self._preview.generate(request)
