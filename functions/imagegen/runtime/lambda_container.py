"""What lives as long as a Lambda container: one event loop per thread, and the SQS batch processor on it."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

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
