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
    "What the image should show. Plain descriptive English works best.",
    minLength=1,
    maxLength=catalog.MAX_PROMPT_LENGTH,
)
JOB_ID_FIELD = described("The job id returned by generate_image", format="uuid")
MODEL_FIELD = described(
    f"Model to use (default {catalog.DEFAULT_MODEL}). list_models describes each one.",
    enum=catalog.model_keys(),
)
COUNT_FIELD = described(
    f"How many images of this prompt to generate in parallel (1-{MAX_BATCH})", minimum=1, maximum=MAX_BATCH
)


def wait_field(max_wait_seconds: float, default_wait_seconds: float) -> Any:
    """The wait budget a client may ask for; its bounds are the server's."""
    return described(
        f"Seconds to wait at most (server cap {max_wait_seconds:g}, default {default_wait_seconds:g}). "
        "The call returns earlier as soon as the job finishes.",
        minimum=0,
        maximum=max_wait_seconds,
    )


Width = Annotated[int | None, described("Image width in pixels, for models that accept it (see list_models)")]
Height = Annotated[
    int | None, described("Image height in pixels, for models that accept it (see list_models)")
]
Seed = Annotated[int | None, described("Seed for reproducible images, for models that accept it")]
NegativePrompt = Annotated[str | None, described("What to keep out of the image, for models that accept it")]
Steps = Annotated[
    int | None, described("Diffusion steps; more is slower and finer. Bounds depend on the model")
]
Guidance = Annotated[float | None, described("How closely to follow the prompt, for models that accept it")]
Limit = Annotated[int, described("Items per page (1-50)", minimum=1, maximum=MAX_LIST_LIMIT)]
Offset = Annotated[int, described("Items to skip (prefer cursor)", minimum=0)]
Cursor = Annotated[str | None, described("next_cursor from the previous page")]
ModelFilter = Annotated[str | None, described("Only this model", enum=catalog.model_keys())]
CreatedAfter = Annotated[str | None, described("Only after this ISO-8601 time", format="date-time")]
CreatedBefore = Annotated[str | None, described("Only before this ISO-8601 time", format="date-time")]
PromptContains = Annotated[str | None, described("Only prompts containing this text")]
StatusFilter = Annotated[str, described("Status filter", enum=list(STATUS_FILTERS))]
JobId = Annotated[str, JOB_ID_FIELD]
Since = Annotated[str | None, described("Start of the period, ISO-8601", format="date-time")]
Until = Annotated[str | None, described("End of the period, ISO-8601", format="date-time")]


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
