"""Resources: `image://{job_id}` (the image itself) and `images://recent` (the caller's latest images).

No `from __future__ import annotations`: the SDK reads the handlers' signatures.
"""

import json

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError

from imagegen.domain.errors import InvalidRequest, JobNotFound
from imagegen.domain.image_health import ImageUnavailable
from imagegen.mcp.context import AppContext, caller_from, current_caller
from imagegen.mcp.presenters import IMAGE_URI_PREFIX, checked_generation_views, image_uri
from imagegen.services.history import HistoryService
from imagegen.services.jobs import PageRequest

RECENT_IMAGES_URI = "images://recent"
RECENT_IMAGES_COUNT = 20
# A Lambda response is at most 6 MB; base64 adds a third, so larger images are read from their URL instead.
MAX_INLINE_IMAGE_BYTES = 4_000_000


def register(server: MCPServer, app: AppContext, history: HistoryService) -> None:
    @server.resource(
        f"{IMAGE_URI_PREFIX}{{job_id}}",
        name="image",
        title="Generated image",
        # No mimeType: the images are PNG, JPEG or WebP, and a template declares one only when all its
        # resources share it; each read names the image's real type.
        description="The image of a completed job, by job id (PNG, JPEG or WebP).",
    )
    async def read_image(job_id: str, ctx: Context) -> bytes:
        try:
            data, _content_type = await history.read_image(caller_from(ctx), job_id)
        except (JobNotFound, InvalidRequest) as exc:
            raise ResourceNotFoundError(str(exc)) from exc
        except ImageUnavailable as exc:
            # The job exists and completed: say what became of its image, not that there is no such job.
            raise ResourceError(str(exc)) from exc
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
        views = await checked_generation_views(history, page.items)
        return json.dumps(
            [
                {"uri": image_uri(view.job_id), **view.model_dump(mode="json", exclude_none=True)}
                for view in views
            ]
        )
