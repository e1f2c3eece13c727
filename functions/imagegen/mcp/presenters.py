"""How results look to a client: structured content matching the output schema, a text block for clients
that ignore it, resource links and small thumbnails for clients that show images."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from mcp_types import CallToolResult, ContentBlock, ImageContent, ResourceLink, TextContent
from pydantic import BaseModel

from imagegen.domain.models import Generation, Job, JobStatus
from imagegen.mcp.context import AppContext, current_deadline
from imagegen.mcp.schemas import GenerateResult, GenerationView, JobView, WaitResult
from imagegen.ports import Page
from imagegen.services.history import HistoryService
from imagegen.services.jobs import WaitOutcome

IMAGE_URI_PREFIX = "image://"
THUMBNAILS_PER_RESULT = 4
THUMBNAIL_BUDGET_SECONDS = 3.0


def structured(model: BaseModel, text: str, extra: list[ContentBlock] | None = None) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=text), *(extra or [])],
        structured_content=model.model_dump(mode="json"),
    )


def image_uri(job_id: str) -> str:
    return f"{IMAGE_URI_PREFIX}{job_id}"


async def checked_views(
    history: HistoryService,
    jobs: Sequence[Job],
    provider_name: str,
    *,
    completed_before: datetime | None = None,
) -> list[JobView]:
    """Views of jobs whose completed images were checked in the store (missing or damaged say so).

    `completed_before`: check only images finished before then; one this very call watched being written
    needs no second look.
    """
    to_check = {
        job.job_id: job.image
        for job in jobs
        if job.status is JobStatus.COMPLETED
        and job.image is not None
        and (
            completed_before is None or (job.completed_at is not None and job.completed_at < completed_before)
        )
    }
    problems = await history.image_problems(to_check) if to_check else {}
    return [JobView.of(job, provider_name, problems.get(job.job_id)) for job in jobs]


async def checked_generation_views(
    history: HistoryService, generations: Sequence[Generation]
) -> list[GenerationView]:
    problems = await history.image_problems({item.job_id: item.image for item in generations})
    return [GenerationView.of(item, problems.get(item.job_id)) for item in generations]


async def image_blocks(
    app: AppContext, history: HistoryService, jobs: Iterable[Job], views: Sequence[JobView] = ()
) -> list[ContentBlock]:
    """A resource_link per completed image, plus small inline thumbnails for clients that show images.

    Images the views report missing or damaged get neither. Thumbnails are made concurrently and for the
    first few images only, so a batch result stays small and quick, and never past the request's deadline
    (on AWS a wait has already used most of it).
    """
    unavailable = {view.job_id for view in views if view.image_problem}
    done = [
        job
        for job in jobs
        if job.status is JobStatus.COMPLETED and job.image is not None and job.job_id not in unavailable
    ]
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


async def wait_answer(
    app: AppContext,
    history: HistoryService,
    outcome: WaitOutcome,
    *,
    completed_before: datetime | None = None,
) -> CallToolResult:
    """The answer of a wait tool (and of a task that waited): every job, its image checked, with links."""
    views = await checked_views(history, outcome.jobs, app.provider_name, completed_before=completed_before)
    result = wait_result(outcome, views)
    return structured(result, describe_wait(result), await image_blocks(app, history, outcome.jobs, views))


def queued_answer(jobs: Sequence[Job], provider_name: str) -> CallToolResult:
    """The answer of generate_image: the jobs are queued, here is how to follow them."""
    ids = [job.job_id for job in jobs]
    result = GenerateResult(
        job_id=ids[0] if len(ids) == 1 else None,
        job_ids=ids,
        status=JobStatus.PENDING.value,
        model=jobs[0].model,
        provider=provider_name,
        count=len(ids),
        batch_id=jobs[0].batch_id,
        next_step=(
            f"Call wait_for_completion with job_id={ids[0]!r} to get the image URL."
            if len(ids) == 1
            else f"Call wait_for_completion with job_ids={ids} to get the image URLs."
        ),
    )
    text = f"Queued {len(ids)} image job(s) with {result.model} ({result.provider}): {', '.join(ids)}. "
    return structured(result, text + result.next_step)


def page_info(page: Page[Any], limit: int, offset: int) -> dict[str, Any]:
    return {
        "total_count": page.total_count,
        "returned_count": len(page.items),
        "has_more": page.next_cursor is not None,
        "next_cursor": page.next_cursor,
        "limit": limit,
        "offset": offset,
    }


def wait_result(outcome: WaitOutcome, views: list[JobView]) -> WaitResult:
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
    elif any(view.image_problem for view in views):
        next_step = (
            "Some images can no longer be served (see image_problem_message): generate them again with "
            "generate_image; show the user the others."
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
    if view.image_problem_message:
        return f"Job {view.job_id} completed, but: {view.image_problem_message}"
    if view.status == JobStatus.COMPLETED and view.image_url is None:
        return f"Job {view.job_id} completed; its image has been deleted."
    if view.status == JobStatus.COMPLETED:
        size = f", {view.width}x{view.height}" if view.width else ""
        return (
            f"Job {view.job_id} completed ({view.model} via {view.provider}{size}): {_where(view.image_url)}"
        )
    if view.status == JobStatus.FAILED:
        return f"Job {view.job_id} failed [{view.error_code}]: {view.error_message}"
    return f"Job {view.job_id} is {view.status} ({view.model})."


def _where(url: str | None) -> str:
    """A file image (the stdio server's) is named by its path too, which a person can open directly."""
    if url and url.startswith("file://"):
        return f"{url} (saved at {url2pathname(urlsplit(url).path)})"
    return url or ""


def describe_wait(result: WaitResult) -> str:
    lines = [describe_job(view) for view in result.jobs]
    return "\n".join([*lines, result.next_step])
