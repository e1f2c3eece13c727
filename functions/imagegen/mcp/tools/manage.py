"""Tools that change what exists: cancel_job and delete_generation."""

from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from mcp_types import CallToolResult

from imagegen.domain.models import JobStatus
from imagegen.mcp.arguments import JobId
from imagegen.mcp.context import AppContext, caller_from, tool_errors
from imagegen.mcp.hints import CANCELS, DELETES
from imagegen.mcp.input_schemas import SchemaRules
from imagegen.mcp.presenters import structured
from imagegen.mcp.schemas import CancelResult, DeleteResult, JobView
from imagegen.services.history import HistoryService


def register(server: MCPServer, app: AppContext, history: HistoryService) -> SchemaRules:
    @server.tool(
        title="Cancel job",
        annotations=CANCELS,
        description=(
            "Cancel a job: a pending one never runs, a processing one's image is discarded. A finished job "
            "stays as it is."
        ),
    )
    async def cancel_job(ctx: Context, job_id: JobId) -> Annotated[CallToolResult, CancelResult]:
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
        return structured(result, text)

    @server.tool(
        title="Delete generated image",
        annotations=DELETES,
        description=(
            "Delete a generated image for good (file and history entry); its URL stops working. Deleting "
            "twice is not an error."
        ),
    )
    async def delete_generation(ctx: Context, job_id: JobId) -> Annotated[CallToolResult, DeleteResult]:
        with tool_errors():
            outcome = await history.delete_generation(caller_from(ctx), job_id)
        result = DeleteResult(job_id=outcome.job_id, deleted=outcome.deleted)
        text = (
            f"Deleted the image of job {outcome.job_id}."
            if outcome.deleted
            else f"Job {outcome.job_id} has no image to delete (already deleted or never completed)."
        )
        return structured(result, text)

    return {}
