"""The MCP server: tool definitions only. Each tool validates, calls JobService, and shapes the result.

Domain errors become `ToolError` here, the only exception whose message mcp 2.x passes to the model.
Bounds are advertised in the input schema through `json_schema_extra` and enforced by the core, so that a
bad argument gets the core's actionable message instead of a raw pydantic report.

No `from __future__ import annotations` here: tool signatures use field definitions local to
`build_mcp_server`, so their annotations must be evaluated where they are written.
"""

import asyncio
import base64
import contextvars
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Annotated, Any

from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp_types import (
    CallToolResult,
    ContentBlock,
    ImageContent,
    InputRequiredResult,
    ResourceLink,
    TextContent,
    ToolAnnotations,
)
from mcp_types import Tool as MCPTool
from pydantic import AnyUrl, BaseModel, Field

from imagegen import __version__
from imagegen.domain import catalog
from imagegen.domain.caller import Caller
from imagegen.domain.deadline import Deadline
from imagegen.domain.errors import ImagegenError, InvalidRequest, JobNotFound
from imagegen.domain.image_format import detect_image_format
from imagegen.domain.models import Job, JobStatus
from imagegen.domain.validation import MAX_BATCH, MAX_LIST_LIMIT, STATUS_FILTERS
from imagegen.mcp.schemas import (
    CancelResult,
    DeleteResult,
    GenerateResult,
    GenerationList,
    GenerationView,
    JobList,
    JobView,
    ModelList,
    UsageResult,
    WaitResult,
)
from imagegen.ports import ImageStore, Page
from imagegen.services.history import HistoryService
from imagegen.services.jobs import JobService, PageRequest, WaitOutcome, WaitProgress

SERVER_NAME = "imagegen"
INSTRUCTIONS = (
    "Generate images from text prompts with Cloudflare Workers AI. Typical flow: call "
    "generate_image_and_wait with a prompt; if it returns timed_out=true, call wait_for_completion with "
    "the job_id until done. Each completed job has a public image_url. Use list_models to choose a model "
    "and its parameters, list_generations to browse earlier images. Completed results link the image as "
    "the resource image://{job_id}."
)
IMAGE_URI_PREFIX = "image://"
RECENT_IMAGES_URI = "images://recent"
RECENT_IMAGES_COUNT = 20
THUMBNAILS_PER_RESULT = 4
THUMBNAIL_BUDGET_SECONDS = 3.0
# A Lambda response is at most 6 MB; base64 adds a third, so larger images are read from their URL instead.
MAX_INLINE_IMAGE_BYTES = 4_000_000

# Set by the bearer-auth middleware for the current request; read by every tool.
current_caller: contextvars.ContextVar[Caller | None] = contextvars.ContextVar(
    "imagegen_caller", default=None
)
# Set where a request must be answered by a fixed time (behind API Gateway); None locally.
current_deadline: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar(
    "imagegen_deadline", default=None
)


@dataclass(frozen=True)
class AppContext:
    """What the tools need: the job service, the image store and the name of the configured provider."""

    jobs: JobService
    images: ImageStore
    provider_name: str
    history: HistoryService | None = None
    inline_thumbnails: bool = True


class ImagegenMCPServer(MCPServer):
    """MCPServer whose image resources carry the image's real content type, and whose tool list is cached.

    The SDK gives every read of a resource template the template's one MIME type; our images are PNG,
    JPEG or WebP depending on the model, so the type is taken from the bytes. The tool list is fixed once
    `build_mcp_server` returns, so it is rendered once per process instead of on every tools/list.
    """

    _tools_cache: list[MCPTool] | None = None

    def add_tool(self, *args: Any, **kwargs: Any) -> None:
        self._tools_cache = None
        super().add_tool(*args, **kwargs)

    async def list_tools(self) -> list[MCPTool]:
        if self._tools_cache is None:
            self._tools_cache = await super().list_tools()
        return self._tools_cache

    async def read_resource(
        self, uri: AnyUrl | str, context: Context[Any, Any] | None = None
    ) -> Iterable[ReadResourceContents] | InputRequiredResult:
        results = await super().read_resource(uri, context)
        if isinstance(results, InputRequiredResult) or not str(uri).startswith(IMAGE_URI_PREFIX):
            return results
        return [_with_detected_type(item) for item in results]


def _with_detected_type(item: ReadResourceContents) -> ReadResourceContents:
    fmt = detect_image_format(item.content) if isinstance(item.content, bytes) else None
    return replace(item, mime_type=fmt.content_type) if fmt else item


def caller_from(ctx: Context) -> Caller:
    request = getattr(ctx.request_context, "request", None)
    state = getattr(request, "state", None)
    caller = getattr(state, "caller", None) if state is not None else None
    caller = caller or current_caller.get()
    if not isinstance(caller, Caller):
        raise ToolError("This request is not authenticated. Send an Authorization: Bearer <token> header.")
    return caller


@contextmanager
def tool_errors() -> Iterator[None]:
    try:
        yield
    except ImagegenError as exc:
        raise ToolError(str(exc)) from exc


def _schema(description: str, **bounds: Any) -> Any:
    return Field(description=description, json_schema_extra=bounds or None)


def _parse_time(name: str, value: str | None) -> datetime | None:
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


def _structured(model: BaseModel, text: str, extra: list[ContentBlock] | None = None) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=text), *(extra or [])],
        structured_content=model.model_dump(mode="json"),
    )


def image_uri(job_id: str) -> str:
    return f"{IMAGE_URI_PREFIX}{job_id}"


async def image_blocks(app: AppContext, history: HistoryService, jobs: Iterable[Job]) -> list[ContentBlock]:
    """A resource_link per completed image, plus small inline thumbnails for clients that show images.

    Thumbnails are made concurrently and for the first few images only, so a batch result stays small
    and quick (on AWS the wait budget has already used most of API Gateway's 30 s).
    """
    done = [job for job in jobs if job.status is JobStatus.COMPLETED and job.image is not None]
    blocks: list[ContentBlock] = [
        ResourceLink(
            type="resource_link",
            uri=image_uri(job.job_id),
            name=f"image-{job.job_id}",
            title=job.prompt[:80],
            description=f"{job.model} image, also at {job.image.url}",
            mime_type=job.image.content_type,
            size=job.image.size_bytes,
        )
        for job in done
        if job.image is not None
    ]
    deadline = current_deadline.get()
    budget = deadline.budget(THUMBNAIL_BUDGET_SECONDS) if deadline else THUMBNAIL_BUDGET_SECONDS
    if app.inline_thumbnails and done and budget > 0:
        try:
            async with asyncio.timeout(budget):
                thumbnails = await asyncio.gather(
                    *(history.thumbnail(job) for job in done[:THUMBNAILS_PER_RESULT])
                )
        except TimeoutError:
            thumbnails = []  # the links carry the images; the answer must not miss the client's deadline
        blocks += [
            ImageContent(type="image", data=base64.b64encode(thumbnail).decode(), mime_type="image/jpeg")
            for thumbnail in thumbnails
            if thumbnail is not None
        ]
    return blocks


READ_ONLY = ToolAnnotations(
    readOnlyHint=True, destructiveHint=False, idempotentHint=True, openWorldHint=False
)
GENERATES = ToolAnnotations(
    readOnlyHint=False, destructiveHint=False, idempotentHint=False, openWorldHint=True
)
CANCELS = ToolAnnotations(readOnlyHint=False, destructiveHint=False, idempotentHint=True, openWorldHint=False)
DELETES = ToolAnnotations(readOnlyHint=False, destructiveHint=True, idempotentHint=True, openWorldHint=False)

PROMPT_FIELD = _schema(
    "What the image should show. Plain descriptive English works best.",
    minLength=1,
    maxLength=catalog.MAX_PROMPT_LENGTH,
)
JOB_ID_FIELD = _schema("The job id returned by generate_image", format="uuid")

# Argument types shared by several tools; the schema each one advertises is written once, here.
Width = Annotated[int | None, _schema("Image width in pixels, for models that accept it (see list_models)")]
Height = Annotated[int | None, _schema("Image height in pixels, for models that accept it (see list_models)")]
Seed = Annotated[int | None, _schema("Seed for reproducible images, for models that accept it")]
NegativePrompt = Annotated[str | None, _schema("What to keep out of the image, for models that accept it")]
Steps = Annotated[
    int | None, _schema("Diffusion steps; more is slower and finer. Bounds depend on the model")
]
Guidance = Annotated[float | None, _schema("How closely to follow the prompt, for models that accept it")]
Limit = Annotated[int, _schema("Items per page (1-50)", minimum=1, maximum=MAX_LIST_LIMIT)]
Offset = Annotated[int, _schema("Items to skip (prefer cursor)", minimum=0)]
Cursor = Annotated[str | None, _schema("next_cursor from the previous page")]
ModelFilter = Annotated[str | None, _schema("Only this model", enum=catalog.model_keys())]
CreatedAfter = Annotated[str | None, _schema("Only after this ISO-8601 time", format="date-time")]
CreatedBefore = Annotated[str | None, _schema("Only before this ISO-8601 time", format="date-time")]
PromptContains = Annotated[str | None, _schema("Only prompts containing this text")]


def _generation_params(
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


def build_mcp_server(app: AppContext) -> MCPServer:
    history = app.history or HistoryService(app.jobs.store, app.images)
    server = ImagegenMCPServer(
        SERVER_NAME,
        title="Image Generator",
        version=__version__,
        instructions=INSTRUCTIONS,
        website_url="https://github.com/imagegen-mcp/imagegen",
    )
    model_keys = catalog.model_keys()
    model_field = _schema(
        f"Model to use (default {catalog.DEFAULT_MODEL}). list_models describes each one.", enum=model_keys
    )
    count_field = _schema(
        f"How many images of this prompt to generate in parallel (1-{MAX_BATCH})",
        minimum=1,
        maximum=MAX_BATCH,
    )
    wait_field = _schema(
        f"Seconds to wait at most (server cap {app.jobs.max_wait_seconds:g}, default "
        f"{app.jobs.default_wait_seconds:g}). The call returns earlier as soon as the job finishes.",
        minimum=0,
        maximum=app.jobs.max_wait_seconds,
    )

    async def submit(
        ctx: Context,
        prompt: str,
        model: str,
        count: int,
        params: dict[str, Any],
    ) -> list[Job]:
        with tool_errors():
            return await app.jobs.submit(caller_from(ctx), prompt, model, params, count)

    @server.tool(
        title="Generate image",
        annotations=GENERATES,
        description=(
            "Queue image generation from a text prompt and return at once with the job id (status 'pending'). "
            "Generation takes a few seconds; call wait_for_completion with the job_id to get the image URL, "
            "or use generate_image_and_wait to do both in one call. count>1 makes several images of the "
            "same prompt in parallel and returns job_ids."
        ),
    )
    async def generate_image(
        ctx: Context,
        prompt: Annotated[str, PROMPT_FIELD],
        model: Annotated[str, model_field] = catalog.DEFAULT_MODEL,
        count: Annotated[int, count_field] = 1,
        width: Width = None,
        height: Height = None,
        seed: Seed = None,
        negative_prompt: NegativePrompt = None,
        steps: Steps = None,
        guidance: Guidance = None,
    ) -> Annotated[CallToolResult, GenerateResult]:
        params = _generation_params(width, height, seed, negative_prompt, steps, guidance)
        jobs = await submit(ctx, prompt, model, count, params)
        ids = [job.job_id for job in jobs]
        result = GenerateResult(
            job_id=ids[0] if len(ids) == 1 else None,
            job_ids=ids,
            status=JobStatus.PENDING.value,
            model=jobs[0].model,
            provider=app.provider_name,
            count=len(ids),
            batch_id=jobs[0].batch_id,
            next_step=(
                f"Call wait_for_completion with job_id={ids[0]!r} to get the image URL."
                if len(ids) == 1
                else f"Call wait_for_completion with job_ids={ids} to get the image URLs."
            ),
        )
        text = f"Queued {len(ids)} image job(s) with {result.model} ({result.provider}): {', '.join(ids)}. "
        return _structured(result, text + result.next_step)

    @server.tool(
        title="Get job status",
        annotations=READ_ONLY,
        description=(
            "Get the current status of one image job: pending, processing, completed (with image_url) or "
            "failed (with error_code and error_message). Does not wait; use wait_for_completion to block "
            "until the job finishes."
        ),
    )
    async def get_job_status(
        ctx: Context, job_id: Annotated[str, JOB_ID_FIELD]
    ) -> Annotated[CallToolResult, JobView]:
        with tool_errors():
            job = await app.jobs.get(caller_from(ctx), job_id)
        view = JobView.of(job, app.provider_name)
        return _structured(view, describe_job(view), await image_blocks(app, history, [job]))

    @server.tool(
        title="List generated images",
        annotations=READ_ONLY,
        description=(
            "List completed images, newest first, with their URLs and prompts. Page with cursor (pass "
            "next_cursor from the previous page) or offset; filter by model, time and prompt text."
        ),
    )
    async def list_generations(
        ctx: Context,
        limit: Limit = 10,
        offset: Offset = 0,
        cursor: Cursor = None,
        model: ModelFilter = None,
        created_after: CreatedAfter = None,
        created_before: CreatedBefore = None,
        prompt_contains: PromptContains = None,
    ) -> Annotated[CallToolResult, GenerationList]:
        with tool_errors():
            request = _page_request(
                limit, offset, cursor, model, created_after, created_before, prompt_contains
            )
            page = await app.jobs.list_generations(caller_from(ctx), request)
        views = [GenerationView.of(item) for item in page.items]
        result = GenerationList(generations=views, **_page_info(page, limit, offset))
        lines = [
            f"- {view.created_at:%Y-%m-%d %H:%M} {view.image_url} ({view.model}): {view.prompt[:80]}"
            for view in views
        ]
        text = f"{len(views)} of {page.total_count} image(s)." + ("\n" + "\n".join(lines) if lines else "")
        return _structured(result, text)

    @server.tool(
        title="List jobs",
        annotations=READ_ONLY,
        description=(
            "List image jobs of any status, newest first. Filter by status (all, pending, processing, "
            "completed, failed, cancelled), model, time and prompt text; page with cursor or offset."
        ),
    )
    async def list_jobs(
        ctx: Context,
        status: Annotated[str, _schema("Status filter", enum=list(STATUS_FILTERS))] = "all",
        limit: Limit = 10,
        offset: Offset = 0,
        cursor: Cursor = None,
        model: ModelFilter = None,
        created_after: CreatedAfter = None,
        created_before: CreatedBefore = None,
        prompt_contains: PromptContains = None,
    ) -> Annotated[CallToolResult, JobList]:
        with tool_errors():
            request = _page_request(
                limit, offset, cursor, model, created_after, created_before, prompt_contains
            )
            page = await app.jobs.list_jobs(caller_from(ctx), request, status)
        views = [JobView.of(job, app.provider_name) for job in page.items]
        result = JobList(jobs=views, **_page_info(page, limit, offset))
        lines = [f"- {view.job_id} {view.status} ({view.model}): {view.prompt[:80]}" for view in views]
        text = f"{len(views)} of {page.total_count} job(s)." + ("\n" + "\n".join(lines) if lines else "")
        return _structured(result, text)

    async def wait(ctx: Context, job_ids: list[str], timeout_seconds: float | None) -> CallToolResult:
        async def report(progress: WaitProgress) -> None:
            await ctx.report_progress(progress.elapsed_seconds, progress.budget_seconds, progress.message)

        deadline = current_deadline.get()
        with tool_errors():
            outcome = await app.jobs.wait(
                caller_from(ctx),
                job_ids,
                timeout_seconds,
                on_progress=report,
                # Leave the thumbnails their time before the request's deadline.
                deadline=deadline.earlier_by(THUMBNAIL_BUDGET_SECONDS) if deadline else None,
            )
        result = wait_result(outcome, app.provider_name)
        return _structured(result, describe_wait(result), await image_blocks(app, history, outcome.jobs))

    @server.tool(
        title="Wait for completion",
        annotations=READ_ONLY,
        description=(
            "Wait until image jobs finish and return their status and image URLs. Pass job_id for one job "
            "or job_ids for up to 20. Returns as soon as all are done; if the wait budget ends first it "
            "returns timed_out=true (not an error): call this tool again with the same ids."
        ),
    )
    async def wait_for_completion(
        ctx: Context,
        job_id: Annotated[str | None, _schema("One job id (or use job_ids)", format="uuid")] = None,
        job_ids: Annotated[
            list[str] | None, _schema("Several job ids (1-20)", minItems=1, maxItems=MAX_BATCH)
        ] = None,
        timeout_seconds: Annotated[float | None, wait_field] = None,
    ) -> Annotated[CallToolResult, WaitResult]:
        if (job_id is None) == (job_ids is None):
            raise ToolError("Pass exactly one of job_id (one job) or job_ids (a list of 1-20 job ids).")
        return await wait(ctx, [job_id] if job_id is not None else list(job_ids or []), timeout_seconds)

    @server.tool(
        title="Generate image and wait",
        annotations=GENERATES,
        description=(
            "Generate an image from a text prompt and wait for it: returns the image URL when done. If the "
            "wait budget ends first, returns timed_out=true with the job id; then call wait_for_completion. "
            "count>1 makes several images of the same prompt in parallel."
        ),
    )
    async def generate_image_and_wait(
        ctx: Context,
        prompt: Annotated[str, PROMPT_FIELD],
        model: Annotated[str, model_field] = catalog.DEFAULT_MODEL,
        timeout_seconds: Annotated[float | None, wait_field] = None,
        count: Annotated[int, count_field] = 1,
        width: Width = None,
        height: Height = None,
        seed: Seed = None,
        negative_prompt: NegativePrompt = None,
        steps: Steps = None,
        guidance: Guidance = None,
    ) -> Annotated[CallToolResult, WaitResult]:
        params = _generation_params(width, height, seed, negative_prompt, steps, guidance)
        jobs = await submit(ctx, prompt, model, count, params)
        return await wait(ctx, [job.job_id for job in jobs], timeout_seconds)

    @server.tool(
        title="List models",
        annotations=READ_ONLY,
        description=(
            "List the image models this server offers with their parameters and bounds, typical latency "
            "and price. Use it to choose `model` and optional parameters for generate_image."
        ),
    )
    async def list_models() -> Annotated[CallToolResult, ModelList]:
        infos = catalog.catalog_summary()
        result = ModelList(default_model=catalog.DEFAULT_MODEL, provider=app.provider_name, models=infos)
        lines = [
            f"- {info.model}: {info.name}, ~{info.typical_latency_seconds:g}s, "
            f"parameters: {', '.join(info.parameters) or 'prompt only'}"
            for info in infos
        ]
        return _structured(result, "Models:\n" + "\n".join(lines))

    @server.tool(
        title="Cancel job",
        annotations=CANCELS,
        description=(
            "Cancel an image job. A pending job never runs; a processing job's result is discarded. "
            "Cancelling a job that already finished changes nothing and says so."
        ),
    )
    async def cancel_job(
        ctx: Context, job_id: Annotated[str, JOB_ID_FIELD]
    ) -> Annotated[CallToolResult, CancelResult]:
        with tool_errors():
            caller = caller_from(ctx)
            before = await app.jobs.get(caller, job_id)
            after = await app.jobs.cancel(caller, job_id)
        view = JobView.of(after, app.provider_name)
        stopped = not before.is_terminal and after.status is JobStatus.CANCELLED
        result = CancelResult(job_id=after.job_id, status=after.status.value, cancelled=stopped, job=view)
        text = (
            f"Job {after.job_id} cancelled."
            if stopped
            else f"Job {after.job_id} had already finished: {after.status.value}."
        )
        return _structured(result, text)

    @server.tool(
        title="Delete generated image",
        annotations=DELETES,
        description=(
            "Permanently delete a generated image: the stored file and its history entry. The image URL stops "
            "working. Deleting an image that is already gone is not an error."
        ),
    )
    async def delete_generation(
        ctx: Context, job_id: Annotated[str, JOB_ID_FIELD]
    ) -> Annotated[CallToolResult, DeleteResult]:
        with tool_errors():
            outcome = await history.delete_generation(caller_from(ctx), job_id)
        result = DeleteResult(job_id=outcome.job_id, deleted=outcome.deleted)
        text = (
            f"Deleted the image of job {outcome.job_id}."
            if outcome.deleted
            else f"Job {outcome.job_id} has no image to delete (already deleted or never completed)."
        )
        return _structured(result, text)

    @server.tool(
        title="Get usage",
        annotations=READ_ONLY,
        description=(
            "Sum your jobs, images and estimated Workers AI cost over a period (ISO-8601 since/until; "
            "both optional). Costs are the catalog's list-price estimates, not an invoice."
        ),
    )
    async def get_usage(
        ctx: Context,
        since: Annotated[str | None, _schema("Start of the period, ISO-8601", format="date-time")] = None,
        until: Annotated[str | None, _schema("End of the period, ISO-8601", format="date-time")] = None,
    ) -> Annotated[CallToolResult, UsageResult]:
        with tool_errors():
            usage = await history.usage(
                caller_from(ctx), _parse_time("since", since), _parse_time("until", until)
            )
        result = UsageResult(**usage.model_dump())
        text = f"{usage.jobs} job(s), {usage.images} image(s), estimated ${usage.estimated_cost_usd:.4f}."
        return _structured(result, text)

    @server.resource(
        f"{IMAGE_URI_PREFIX}{{job_id}}",
        name="image",
        title="Generated image",
        description="The image of a completed job, by job id.",
        mime_type="image/png",
    )
    async def read_image(job_id: str, ctx: Context) -> bytes:
        try:
            data, _content_type = await history.read_image(caller_from(ctx), job_id)
        except (JobNotFound, InvalidRequest) as exc:
            raise ResourceNotFoundError(str(exc)) from exc
        if len(data) > MAX_INLINE_IMAGE_BYTES:
            job = await app.jobs.get(caller_from(ctx), job_id)
            url = job.image.url if job.image else "its image_url"
            raise ResourceError(
                f"The image is {len(data):,} bytes, too large to send inline; fetch it from {url}"
            )
        return data

    @server.resource(
        RECENT_IMAGES_URI,
        name="recent-images",
        title="Recent images",
        description=f"Your {RECENT_IMAGES_COUNT} most recent images with their image:// URIs and URLs (JSON).",
        mime_type="application/json",
    )
    async def recent_images() -> str:
        # Static resources get no Context in mcp 2.x; the auth middleware's context variable names the caller.
        caller = current_caller.get()
        if caller is None:
            raise ResourceNotFoundError("Not authenticated.")
        page = await app.jobs.list_generations(caller, PageRequest(limit=RECENT_IMAGES_COUNT))
        return json.dumps(
            [
                {"uri": image_uri(item.job_id), **GenerationView.of(item).model_dump(mode="json")}
                for item in page.items
            ]
        )

    return server


def _page_request(
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
        created_after=_parse_time("created_after", created_after),
        created_before=_parse_time("created_before", created_before),
        prompt_contains=prompt_contains or None,
    )


def _page_info(page: Page[Any], limit: int, offset: int) -> dict[str, Any]:
    return {
        "total_count": page.total_count,
        "returned_count": len(page.items),
        "has_more": page.next_cursor is not None,
        "next_cursor": page.next_cursor,
        "limit": limit,
        "offset": offset,
    }


def wait_result(outcome: WaitOutcome, provider_name: str) -> WaitResult:
    views = [JobView.of(job, provider_name) for job in outcome.jobs]
    completed = sum(job.status is JobStatus.COMPLETED for job in outcome.jobs)
    cancelled = sum(job.status is JobStatus.CANCELLED for job in outcome.jobs)
    running = len(outcome.still_running)
    failed = len(views) - completed - cancelled - running
    single = views[0] if len(views) == 1 else None
    if single is not None:
        status = single.status
    elif running:
        status = "still_running"
    elif failed == 0 and cancelled == 0:
        status = "completed"
    elif completed == 0 and failed == 0:
        status = "cancelled"
    else:
        status = "failed" if completed == 0 and cancelled == 0 else "partial"
    if running:
        ids = [job.job_id for job in outcome.still_running]
        argument = f"job_id={ids[0]!r}" if single else f"job_ids={ids}"
        next_step = (
            f"Still running after {outcome.elapsed_seconds:g}s. Call wait_for_completion with {argument}."
        )
    elif failed:
        next_step = (
            "Some jobs failed: see error_code and error_message. You may retry those with generate_image."
        )
    elif cancelled:
        next_step = "Cancelled jobs were stopped on request; show the user any image_url that completed."
    else:
        next_step = "Done. Show the image_url(s) to the user."
    return WaitResult(
        done=running == 0,
        status=status,
        timed_out=outcome.timed_out,
        job_id=single.job_id if single else None,
        image_url=single.image_url if single else None,
        jobs=views,
        completed_count=completed,
        failed_count=failed,
        cancelled_count=cancelled,
        still_running_count=running,
        elapsed_seconds=outcome.elapsed_seconds,
        next_step=next_step,
    )


def describe_job(view: JobView) -> str:
    if view.status == JobStatus.COMPLETED and view.image_url is None:
        return f"Job {view.job_id} completed; its image has been deleted."
    if view.status == JobStatus.COMPLETED:
        size = f", {view.width}x{view.height}" if view.width else ""
        return f"Job {view.job_id} completed ({view.model} via {view.provider}{size}): {view.image_url}"
    if view.status == JobStatus.FAILED:
        return f"Job {view.job_id} failed [{view.error_code}]: {view.error_message}"
    return f"Job {view.job_id} is {view.status} ({view.model})."


def describe_wait(result: WaitResult) -> str:
    lines = [describe_job(view) for view in result.jobs]
    return "\n".join([*lines, result.next_step])
