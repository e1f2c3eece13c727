"""`POST /v1/images/generations`: the OpenAI Images API over the same jobs, keys and limits as MCP.

Tools that already speak the OpenAI Images API (Open WebUI, LibreChat, the `openai` SDKs) can use this
server by its base URL and a key. A request becomes `n` jobs of the caller, exactly as `generate_image`
would make them (so they appear in the MCP history and count toward the key's limits), and is answered
when they finish. The API has no way to say "still running", so a generation that outlasts the request
(on AWS: API Gateway's 30 s) is answered 504 with the job ids, which the MCP tools can follow.

Errors use OpenAI's envelope (`{"error": {"message", "type", "param", "code"}}`) so that clients show
them as they show OpenAI's own.
"""

from __future__ import annotations

import base64
import re
import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from imagegen.domain import catalog
from imagegen.domain.errors import ImagegenError, InvalidRequest, ReasonCode, ServiceUnavailable
from imagegen.domain.limits import LimitExceeded
from imagegen.domain.models import Job, JobStatus
from imagegen.mcp.context import AppContext, current_caller, current_deadline
from imagegen.web.routes import OPENAI_IMAGES_PATH

MAX_IMAGES = 10  # OpenAI's own bound for `n`
# Reading images back for b64_json takes time too: leave it this much of the request's deadline.
INLINE_READ_SECONDS = 2.0
_SIZE = re.compile(r"^(\d{2,4})x(\d{2,4})$")


class ImagesRequest(BaseModel):
    # OpenAI clients may send fields this server has no use for (quality, style, user): they are ignored.
    model_config = ConfigDict(extra="ignore")

    prompt: str
    model: str | None = None
    n: int = Field(default=1, ge=1, le=MAX_IMAGES)
    size: str | None = None
    response_format: Literal["url", "b64_json"] = "url"


class ImagesError(Exception):
    def __init__(self, status: int, message: str, *, kind: str, code: str, param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.kind, self.code, self.param = status, kind, code, param

    def response(self) -> Response:
        error = {"message": str(self), "type": self.kind, "param": self.param, "code": self.code}
        return JSONResponse({"error": error}, status_code=self.status)


def openai_images_route(app: AppContext, *, max_response_bytes: int | None = None) -> Route:
    """`max_response_bytes`: what the transport can carry (a Lambda answer is at most 6 MB)."""

    async def generations(request: Request) -> Response:
        try:
            return JSONResponse(await _generate(app, await _parsed(request), max_response_bytes))
        except ImagesError as error:
            return error.response()

    return Route(OPENAI_IMAGES_PATH, generations, methods=["POST"])


async def _parsed(request: Request) -> ImagesRequest:
    try:
        return ImagesRequest.model_validate_json(await request.body())
    except ValidationError as exc:
        problem = exc.errors(include_url=False, include_input=False)[0]
        param = ".".join(str(part) for part in problem["loc"]) or None
        raise ImagesError(
            400,
            f"{param or 'body'}: {problem['msg']}",
            kind="invalid_request_error",
            code="invalid_value",
            param=param,
        ) from None


def _model(name: str | None) -> catalog.ModelSpec:
    if name is None:
        return catalog.get_model(catalog.DEFAULT_MODEL)
    found = catalog.find_by_model_id(name)
    if found is not None:
        return found
    try:
        return catalog.get_model(name)
    except InvalidRequest:
        raise ImagesError(
            400,
            f"Unknown model {name!r}. This server offers: {', '.join(catalog.model_keys())} (see GET /).",
            kind="invalid_request_error",
            code="model_not_found",
            param="model",
        ) from None


def _size_params(spec: catalog.ModelSpec, size: str | None) -> dict[str, Any]:
    if size in (None, "auto"):
        return {}
    match = _SIZE.match(size)
    if match is None:
        raise ImagesError(
            400,
            f"size {size!r} is not WIDTHxHEIGHT, e.g. 1024x1024.",
            kind="invalid_request_error",
            code="invalid_value",
            param="size",
        )
    width, height = int(match.group(1)), int(match.group(2))
    if "width" in spec.params and "height" in spec.params:
        return {"width": width, "height": height}
    if (width, height) == (spec.default_width, spec.default_height):
        return {}
    raise ImagesError(
        400,
        f"{spec.key} makes {spec.default_width}x{spec.default_height} images only; leave size out or choose a "
        "model that takes width and height.",
        kind="invalid_request_error",
        code="invalid_value",
        param="size",
    )


async def _generate(app: AppContext, wanted: ImagesRequest, max_response_bytes: int | None) -> dict[str, Any]:
    caller = current_caller.get()
    if caller is None:  # the bearer check runs first; this is only a guard
        raise ImagesError(
            401, "Send Authorization: Bearer <key>.", kind="invalid_request_error", code="invalid_api_key"
        )
    spec = _model(wanted.model)
    params = _size_params(spec, wanted.size)
    try:
        jobs = await app.jobs.submit(caller, wanted.prompt, spec.key, params, wanted.n)
    except LimitExceeded as exc:
        raise ImagesError(429, str(exc), kind="requests", code="rate_limit_exceeded") from exc
    except ServiceUnavailable as exc:
        raise ImagesError(503, str(exc), kind="server_error", code="service_unavailable") from exc
    except ImagegenError as exc:
        raise ImagesError(400, str(exc), kind="invalid_request_error", code="invalid_value") from exc
    deadline = current_deadline.get()
    ids = [job.job_id for job in jobs]
    outcome = await app.jobs.wait(
        caller, ids, deadline=deadline.earlier_by(INLINE_READ_SECONDS) if deadline else None
    )
    if outcome.still_running:
        raise ImagesError(
            504,
            f"The images were still being generated when this request had to be answered; they go on as jobs "
            f"{', '.join(ids)} (MCP: wait_for_completion with job_ids, or list_generations).",
            kind="server_error",
            code="generation_timeout",
        )
    _raise_for_failures(outcome.jobs)
    data = [await _item(app, job, wanted.response_format) for job in outcome.jobs]
    if (
        max_response_bytes is not None
        and sum(len(item.get("b64_json", "")) for item in data) > max_response_bytes
    ):
        raise ImagesError(
            413,
            f"{len(data)} images are too large to return inline here; ask for response_format=url or fewer "
            f"images. They are generated: jobs {', '.join(ids)}.",
            kind="invalid_request_error",
            code="response_too_large",
            param="response_format",
        )
    return {
        "created": int(min(job.created_at for job in jobs).timestamp()) if jobs else int(time.time()),
        "data": data,
    }


def _raise_for_failures(jobs: list[Job]) -> None:
    failed = [job for job in jobs if job.status is not JobStatus.COMPLETED]
    if not failed:
        return
    first = failed[0]
    message = f"{len(failed)} of {len(jobs)} images failed: {first.error_message or first.status.value}"
    if first.error_code == ReasonCode.CONTENT_FILTERED.value:
        raise ImagesError(400, message, kind="invalid_request_error", code="content_policy_violation")
    if first.error_code == ReasonCode.INVALID_INPUT.value:
        raise ImagesError(400, message, kind="invalid_request_error", code="invalid_value")
    raise ImagesError(502, message, kind="server_error", code=first.error_code or "generation_failed")


async def _item(app: AppContext, job: Job, response_format: str) -> dict[str, Any]:
    assert job.image is not None  # completed jobs carry their image
    if response_format == "url":
        return {"url": job.image.url, "revised_prompt": None}
    found = await app.images.get(job.image.key)
    if found is None:
        raise ImagesError(
            502,
            f"The image of job {job.job_id} could not be read back.",
            kind="server_error",
            code="image_missing",
        )
    return {"b64_json": base64.b64encode(found[0]).decode(), "revised_prompt": None}
