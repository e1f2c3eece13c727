"""Tools that make images: generate_image, generate_image_and_wait, and wait_for_completion."""

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult

from imagegen.domain import catalog
from imagegen.domain.models import Job
from imagegen.domain.validation import MAX_BATCH
from imagegen.mcp.arguments import (
    COUNT_FIELD,
    MODEL_FIELD,
    PROMPT_FIELD,
    Guidance,
    Height,
    NegativePrompt,
    Seed,
    Steps,
    Width,
    described,
    generation_params,
    wait_field,
)
from imagegen.mcp.context import AppContext, caller_from, current_deadline, starting_task, tool_errors
from imagegen.mcp.hints import GENERATES, READ_ONLY
from imagegen.mcp.input_schemas import SchemaRules
from imagegen.mcp.presenters import THUMBNAIL_BUDGET_SECONDS, queued_answer, wait_answer
from imagegen.mcp.schemas import GenerateResult, WaitResult
from imagegen.services.history import HistoryService
from imagegen.services.jobs import WaitProgress


def register(server: MCPServer, app: AppContext, history: HistoryService) -> SchemaRules:
    wait_seconds = wait_field(app.jobs.max_wait_seconds, app.jobs.default_wait_seconds)

    async def submit(ctx: Context, prompt: str, model: str, count: int, params: dict[str, Any]) -> list[Job]:
        with tool_errors():
            return await app.jobs.submit(caller_from(ctx), prompt, model, params, count)

    async def wait(ctx: Context, job_ids: list[str], timeout_seconds: float | None) -> CallToolResult:
        async def report(progress: WaitProgress) -> None:
            await ctx.report_progress(progress.progress, progress.total, progress.message)

        deadline = current_deadline.get()
        started = app.jobs.clock.now()
        with tool_errors():
            outcome = await app.jobs.wait(
                caller_from(ctx),
                job_ids,
                # A call that starts a task answers at once: the task does the waiting.
                0.0 if starting_task.get() else timeout_seconds,
                on_progress=report,
                # Leave the thumbnails their time before the request's deadline.
                deadline=deadline.earlier_by(THUMBNAIL_BUDGET_SECONDS) if deadline else None,
            )
        return await wait_answer(app, history, outcome, completed_before=started)

    @server.tool(
        title="Generate image",
        annotations=GENERATES,
        description=(
            "Start generating images from a prompt; returns at once with job_id (status pending). Then call "
            "wait_for_completion for the image URL, or use generate_image_and_wait to do both. count>1 makes "
            "several images (job_ids)."
        ),
    )
    async def generate_image(
        ctx: Context,
        prompt: Annotated[str, PROMPT_FIELD],
        model: Annotated[str, MODEL_FIELD] = catalog.DEFAULT_MODEL,
        count: Annotated[int, COUNT_FIELD] = 1,
        width: Width = None,
        height: Height = None,
        seed: Seed = None,
        negative_prompt: NegativePrompt = None,
        steps: Steps = None,
        guidance: Guidance = None,
    ) -> Annotated[CallToolResult, GenerateResult]:
        params = generation_params(width, height, seed, negative_prompt, steps, guidance)
        return queued_answer(await submit(ctx, prompt, model, count, params), app.provider_name)

    @server.tool(
        title="Generate image and wait",
        annotations=GENERATES,
        description=(
            "Generate images from a prompt and wait: returns image_url when done. If time runs out first it "
            "returns timed_out=true with the job id (not an error): then call wait_for_completion."
        ),
    )
    async def generate_image_and_wait(
        ctx: Context,
        prompt: Annotated[str, PROMPT_FIELD],
        model: Annotated[str, MODEL_FIELD] = catalog.DEFAULT_MODEL,
        timeout_seconds: Annotated[float | None, wait_seconds] = None,
        count: Annotated[int, COUNT_FIELD] = 1,
        width: Width = None,
        height: Height = None,
        seed: Seed = None,
        negative_prompt: NegativePrompt = None,
        steps: Steps = None,
        guidance: Guidance = None,
    ) -> Annotated[CallToolResult, WaitResult]:
        params = generation_params(width, height, seed, negative_prompt, steps, guidance)
        jobs = await submit(ctx, prompt, model, count, params)
        return await wait(ctx, [job.job_id for job in jobs], timeout_seconds)

    @server.tool(
        title="Wait for completion",
        annotations=READ_ONLY,
        description=(
            "Wait until jobs finish; returns their status and image URLs. Pass job_id or job_ids (up to 20). "
            "If time runs out first it returns timed_out=true (not an error): call again with the same ids."
        ),
    )
    async def wait_for_completion(
        ctx: Context,
        job_id: Annotated[str | None, described("One job id", format="uuid")] = None,
        job_ids: Annotated[
            list[str] | None, described("Several job ids", minItems=1, maxItems=MAX_BATCH)
        ] = None,
        timeout_seconds: Annotated[float | None, wait_seconds] = None,
    ) -> Annotated[CallToolResult, WaitResult]:
        if (job_id is None) == (job_ids is None):
            raise ToolError("Pass exactly one of job_id (one job) or job_ids (a list of 1-20 job ids).")
        return await wait(ctx, [job_id] if job_id is not None else list(job_ids or []), timeout_seconds)

    # Exactly one of job_id and job_ids: neither, or both, is refused.
    return {"wait_for_completion": {"oneOf": [{"required": ["job_id"]}, {"required": ["job_ids"]}]}}
