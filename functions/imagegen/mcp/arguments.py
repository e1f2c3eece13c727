"""Tool arguments shared by several tools: each advertised schema (bounds, enums, formats) is written once.

Bounds go into the input schema through `json_schema_extra` and are enforced by the core, so a bad
argument gets the core's actionable message instead of a raw pydantic report.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from imagegen.domain import catalog
from imagegen.domain.errors import InvalidRequest
from imagegen.domain.validation import MAX_BATCH, MAX_LIST_LIMIT, STATUS_FILTERS
from imagegen.services.jobs import PageRequest


def described(description: str, **bounds: Any) -> Any:
    return Field(description=description, json_schema_extra=bounds or None)


PROMPT_FIELD = described(
    "What the image shows, in plain descriptive English.",
    minLength=1,
    maxLength=catalog.MAX_PROMPT_LENGTH,
)
JOB_ID_FIELD = described("Job id from generate_image", format="uuid")
MODEL_FIELD = described(
    f"Model (default {catalog.DEFAULT_MODEL}); see list_models.",
    enum=catalog.model_keys(),
)
COUNT_FIELD = described(
    f"Images of this prompt, made in parallel (1-{MAX_BATCH})", minimum=1, maximum=MAX_BATCH
)


def wait_field(max_wait_seconds: float, default_wait_seconds: float) -> Any:
    """The wait budget a client may ask for; its bounds are the server's."""
    return described(
        f"Longest wait in seconds (default {default_wait_seconds:g}); returns as soon as done.",
        minimum=0,
        maximum=max_wait_seconds,
    )


Width = Annotated[int | None, described("Width in pixels (models that take it)")]
Height = Annotated[int | None, described("Height in pixels (models that take it)")]
Seed = Annotated[int | None, described("Seed for repeatable images (models that take it)")]
NegativePrompt = Annotated[str | None, described("What to keep out (models that take it)")]
Steps = Annotated[int | None, described("Diffusion steps: more is slower, finer (bounds per model)")]
Guidance = Annotated[float | None, described("Prompt adherence (models that take it)")]
Limit = Annotated[int, described("Items per page", minimum=1, maximum=MAX_LIST_LIMIT)]
Offset = Annotated[int, described("Items to skip (prefer cursor)", minimum=0)]
Cursor = Annotated[str | None, described("next_cursor of the previous page")]
ModelFilter = Annotated[str | None, described("Only this model", enum=catalog.model_keys())]
CreatedAfter = Annotated[str | None, described("Only after this time", format="date-time")]
CreatedBefore = Annotated[str | None, described("Only before this time", format="date-time")]
PromptContains = Annotated[str | None, described("Only prompts containing this")]
StatusFilter = Annotated[str, described("Status filter", enum=list(STATUS_FILTERS))]
JobId = Annotated[str, JOB_ID_FIELD]
Since = Annotated[str | None, described("Period start", format="date-time")]
Until = Annotated[str | None, described("Period end", format="date-time")]


def generation_params(
    width: int | None,
    height: int | None,
    seed: int | None,
    negative_prompt: str | None,
    steps: int | None,
    guidance: float | None,
) -> dict[str, Any]:
    return {
        "width": width,
        "height": height,
        "seed": seed,
        "negative_prompt": negative_prompt,
        "steps": steps,
        "guidance": guidance,
    }


def parse_time(name: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRequest(
            f"{name}={value!r} is not an ISO-8601 time. Use e.g. '2026-11-25T10:00:00Z'."
        ) from None
    if parsed.tzinfo is None:
        raise InvalidRequest(
            f"{name}={value!r} has no timezone. Add 'Z' for UTC, e.g. '2026-11-25T10:00:00Z'."
        )
    return parsed


def page_request(
    limit: int,
    offset: int,
    cursor: str | None,
    model: str | None,
    created_after: str | None,
    created_before: str | None,
    prompt_contains: str | None,
) -> PageRequest:
    return PageRequest(
        limit=limit,
        offset=offset,
        cursor=cursor,
        model=model,
        created_after=parse_time("created_after", created_after),
        created_before=parse_time("created_before", created_before),
        prompt_contains=prompt_contains or None,
    )
