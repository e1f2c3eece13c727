"""What every tool needs: the services and stores it calls, who is calling, and by when to answer.

The caller and the deadline are set per request by the HTTP edge (bearer auth, the Lambda app) in context
variables, which each request's tasks inherit.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError

from imagegen.domain.caller import Caller
from imagegen.domain.deadline import Deadline
from imagegen.domain.errors import ImagegenError
from imagegen.ports import ImageStore
from imagegen.services.history import HistoryService
from imagegen.services.jobs import JobService
from imagegen.services.tasks import TaskService

current_caller: contextvars.ContextVar[Caller | None] = contextvars.ContextVar(
    "imagegen_caller", default=None
)
# Set where a request must be answered by a fixed time (behind API Gateway); None locally.
current_deadline: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar(
    "imagegen_deadline", default=None
)
# Set while a tool call runs that will be answered with a task: the tool does its quick part only.
starting_task: contextvars.ContextVar[bool] = contextvars.ContextVar("imagegen_starting_task", default=False)


@dataclass(frozen=True)
class AppContext:
    """What the tools need: the job and task services, the image store and the configured provider's name."""

    jobs: JobService
    images: ImageStore
    provider_name: str
    tasks: TaskService
    history: HistoryService | None = None
    inline_thumbnails: bool = True

    def history_service(self) -> HistoryService:
        return self.history or HistoryService(self.jobs.store, self.images, self.jobs.clock)


def caller_from(ctx: Context[Any, Any]) -> Caller:
    request = getattr(ctx.request_context, "request", None)
    state = getattr(request, "state", None)
    caller = getattr(state, "caller", None) if state is not None else None
    caller = caller or current_caller.get()
    if not isinstance(caller, Caller):
        raise ToolError("This request is not authenticated. Send an Authorization: Bearer <token> header.")
    return caller


@contextmanager
def tool_errors() -> Iterator[None]:
    """Domain errors become ToolError, the only exception whose message mcp 2.x passes to the model."""
    try:
        yield
    except ImagegenError as exc:
        raise ToolError(str(exc)) from exc
