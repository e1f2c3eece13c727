"""Tools that read: get_job_status, list_jobs, list_generations, list_models and get_usage."""

from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from mcp_types import CallToolResult

from imagegen.domain import catalog
from imagegen.mcp.arguments import (
    CreatedAfter,
    CreatedBefore,
    Cursor,
    JobId,
    Limit,
    ModelFilter,
    Offset,
    PromptContains,
    Since,
    StatusFilter,
    Until,
    page_request,
    parse_time,
)
from imagegen.mcp.context import AppContext, caller_from, tool_errors
from imagegen.mcp.hints import READ_ONLY
from imagegen.mcp.input_schemas import SchemaRules
from imagegen.mcp.presenters import (
    checked_generation_views,
    checked_views,
    describe_job,
    image_blocks,
    page_info,
    structured,
)
from imagegen.mcp.schemas import GenerationList, JobList, JobView, ModelList, UsageResult
from imagegen.services.history import HistoryService


def register(server: MCPServer, app: AppContext, history: HistoryService) -> SchemaRules:
    @server.tool(
        title="Get job status",
        annotations=READ_ONLY,
        description=(
            "Status of one job now: pending, processing, completed (image_url), failed (error_code, "
            "error_message) or cancelled. Does not wait (see wait_for_completion)."
        ),
    )
    async def get_job_status(ctx: Context, job_id: JobId) -> Annotated[CallToolResult, JobView]:
        with tool_errors():
            job = await app.jobs.get(caller_from(ctx), job_id)
        [view] = await checked_views(history, [job], app.provider_name)
        return structured(view, describe_job(view), await image_blocks(app, history, [job], [view]))

    @server.tool(
        title="List generated images",
        annotations=READ_ONLY,
        description=(
            "Completed images, newest first, with URLs and prompts. Page with cursor; filter by model, time, "
            "prompt text."
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
            request = page_request(
                limit, offset, cursor, model, created_after, created_before, prompt_contains
            )
            page = await app.jobs.list_generations(caller_from(ctx), request)
        views = await checked_generation_views(history, page.items)
        result = GenerationList(generations=views, **page_info(page, limit, offset))
        lines = [
            f"- {view.created_at:%Y-%m-%d %H:%M} {view.image_url} ({view.model}): {view.prompt[:80]}"
            + (f" [image {view.image_problem}: generate it again]" if view.image_problem else "")
            for view in views
        ]
        text = f"{len(views)} of {page.total_count} image(s)." + ("\n" + "\n".join(lines) if lines else "")
        return structured(result, text)

    @server.tool(
        title="List jobs",
        annotations=READ_ONLY,
        description=(
            "Jobs of any status, newest first. Filter by status, model, time, prompt text; page with cursor."
        ),
    )
    async def list_jobs(
        ctx: Context,
        status: StatusFilter = "all",
        limit: Limit = 10,
        offset: Offset = 0,
        cursor: Cursor = None,
        model: ModelFilter = None,
        created_after: CreatedAfter = None,
        created_before: CreatedBefore = None,
        prompt_contains: PromptContains = None,
    ) -> Annotated[CallToolResult, JobList]:
        with tool_errors():
            request = page_request(
                limit, offset, cursor, model, created_after, created_before, prompt_contains
            )
            page = await app.jobs.list_jobs(caller_from(ctx), request, status)
        views = await checked_views(history, page.items, app.provider_name)
        result = JobList(jobs=views, **page_info(page, limit, offset))
        lines = [
            f"- {view.job_id} {view.status} ({view.model}): {view.prompt[:80]}"
            + (f" [image {view.image_problem}: generate it again]" if view.image_problem else "")
            for view in views
        ]
        text = f"{len(views)} of {page.total_count} job(s)." + ("\n" + "\n".join(lines) if lines else "")
        return structured(result, text)

    @server.tool(
        title="List models",
        annotations=READ_ONLY,
        description=(
            "The models on offer, with their parameters and bounds, typical latency and price: use it to "
            "choose model and parameters."
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
        return structured(result, "Models:\n" + "\n".join(lines))

    @server.tool(
        title="Get usage",
        annotations=READ_ONLY,
        description=(
            "Your jobs, images and estimated cost (list price, not an invoice) over a period; since and until "
            "are optional."
        ),
    )
    async def get_usage(
        ctx: Context, since: Since = None, until: Until = None
    ) -> Annotated[CallToolResult, UsageResult]:
        with tool_errors():
            usage = await history.usage(
                caller_from(ctx), parse_time("since", since), parse_time("until", until)
            )
        result = UsageResult(**usage.model_dump())
        today = usage.today
        left = today.images_today.remaining
        text = (
            f"{usage.jobs} job(s), {usage.images} image(s), estimated ${usage.estimated_cost_usd:.4f}. Today: "
            f"{today.jobs_in_flight.used:g} in flight, {today.images_today.used:g} images"
            + (f" ({left:g} left until {today.resets_at:%H:%M} UTC)." if left is not None else ".")
        )
        return structured(result, text)

    return {}
