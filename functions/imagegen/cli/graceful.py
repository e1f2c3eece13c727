"""uvicorn that tells the app the moment a stop signal arrives, and exits within a bounded time.

uvicorn's own shutdown waits for every open request before the app hears of it, and a wait tool may be
holding a request for 45 s. Told at once, the runtime stops taking work, gives running jobs back without
counting an attempt and makes every wait answer "still running, call again"; the open requests then end
within moments, and whatever is still open after the grace period is cut off.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import FrameType

import uvicorn

Drain = Callable[[], Awaitable[None]]


class GracefulServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, drain: Drain) -> None:
        super().__init__(config)
        self._drain = drain
        self._loop: asyncio.AbstractEventLoop | None = None
        self._draining: set[asyncio.Task[None]] = set()

    async def serve(self, sockets: list[object] | None = None) -> None:  # type: ignore[override]
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets)  # type: ignore[arg-type]

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # Runs in the signal handler: only hand the work to the loop, thread-safely.
        if self._loop is not None and not self.should_exit:
            self._loop.call_soon_threadsafe(self._start_draining)
        super().handle_exit(sig, frame)

    def _start_draining(self) -> None:
        task = asyncio.ensure_future(self._drain())
        self._draining.add(task)
        task.add_done_callback(self._draining.discard)
