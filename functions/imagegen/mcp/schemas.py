"""Tool outputs. Each tool's outputSchema is generated from these models, and structuredContent matches it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from imagegen.domain.catalog import ModelSummary
from imagegen.domain.image_health import ImageProblem, explain
from imagegen.domain.models import Generation, Job
from imagegen.services.history import Today

IMAGE_PROBLEM_DESCRIPTION = (
    "Set when the stored image can no longer be served: missing or damaged (then generate it again)"
)


def _problem_fields(problem: ImageProblem | None, job_id: str) -> dict[str, str]:
    if problem is None:
        return {}
    return {"image_problem": problem.value, "image_problem_message": explain(problem, job_id)}


class JobView(BaseModel):
    job_id: str
    status: str = Field(description="pending, processing, completed, failed or cancelled")
    model: str
    prompt: str
    parameters: dict[str, Any] = Field(default_factory=dict, description="Model parameters used")
    provider: str | None = Field(default=None, description="Which provider made (or will make) the image")
    created_at: datetime
    started_at: datetime | None = None
    completed_at: datetime | None = None
    image_url: str | None = Field(default=None, description="Public URL of the image once completed")
    content_type: str | None = None
    width: int | None = None
    height: int | None = None
    error_code: str | None = Field(default=None, description="Stable reason code when failed")
    error_message: str | None = None
    batch_id: str | None = None
    estimated_cost_usd: float | None = Field(
        default=None,
        description="What the job cost by the catalog's prices; 0 for preview images and jobs that never ran",
    )
    image_problem: str | None = Field(default=None, description=IMAGE_PROBLEM_DESCRIPTION)
    image_problem_message: str | None = None

    @classmethod
    def of(cls, job: Job, provider_name: str, problem: ImageProblem | None = None) -> JobView:
        image = job.image
        return cls(
            job_id=job.job_id,
            status=job.status.value,
            model=job.model,
            prompt=job.prompt,
            parameters=job.params.provided(),
            provider=job.provider or provider_name,
            created_at=job.created_at,
            started_at=job.first_started_at or job.started_at,
            completed_at=job.completed_at,
            image_url=image.url if image else None,
            content_type=image.content_type if image else None,
            width=image.width if image else None,
            height=image.height if image else None,
            error_code=job.error_code,
            error_message=job.error_message,
            batch_id=job.batch_id,
            estimated_cost_usd=job.cost_usd,
            **_problem_fields(problem, job.job_id),
        )


class GenerationView(BaseModel):
    job_id: str
    prompt: str
    model: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    provider: str
    image_url: str
    content_type: str
    width: int | None = None
    height: int | None = None
    size_bytes: int
    created_at: datetime
    image_problem: str | None = Field(default=None, description=IMAGE_PROBLEM_DESCRIPTION)
    image_problem_message: str | None = None

    @classmethod
    def of(cls, generation: Generation, problem: ImageProblem | None = None) -> GenerationView:
        image = generation.image
        return cls(
            job_id=generation.job_id,
            prompt=generation.prompt,
            model=generation.model,
            parameters=generation.params.provided(),
            provider=generation.provider,
            image_url=image.url,
            content_type=image.content_type,
            width=image.width,
            height=image.height,
            size_bytes=image.size_bytes,
            created_at=generation.created_at,
            **_problem_fields(problem, generation.job_id),
        )


class GenerateResult(BaseModel):
    job_id: str | None = Field(default=None, description="The job id when one image was requested")
    job_ids: list[str] = Field(description="Every job id created by this call (one per image)")
    status: str = Field(description="Always 'pending': the images are generated in the background")
    model: str
    provider: str
    count: int
    batch_id: str | None = None
    next_step: str


class PageInfo(BaseModel):
    total_count: int | None = Field(description="Items matching the filters, over all pages")
    returned_count: int
    has_more: bool
    next_cursor: str | None = Field(
        default=None, description="Pass as cursor to get the next page; null on the last page"
    )
    limit: int
    offset: int


class JobList(PageInfo):
    jobs: list[JobView]


class GenerationList(PageInfo):
    generations: list[GenerationView]


class WaitResult(BaseModel):
    done: bool = Field(
        description="True when every awaited job has finished (completed, failed or cancelled)"
    )
    status: str = Field(
        description="For one job its status; for several: completed (all), failed (all), cancelled (all), "
        "partial (a mix) or still_running"
    )
    timed_out: bool = Field(
        description="True when the wait budget ended first; call wait_for_completion again"
    )
    job_id: str | None = Field(default=None, description="Set when one job was awaited")
    image_url: str | None = Field(default=None, description="Set when one job was awaited and it completed")
    jobs: list[JobView] = Field(description="Every awaited job with its status, image_url or error")
    completed_count: int
    failed_count: int
    cancelled_count: int
    still_running_count: int
    elapsed_seconds: float
    next_step: str


class ModelList(BaseModel):
    default_model: str
    provider: str = Field(description="The provider that will run generations on this server")
    models: list[ModelSummary]


class CancelResult(BaseModel):
    job_id: str
    status: str = Field(
        description="The job's status after the call: cancelled, or the status it had finished with"
    )
    cancelled: bool = Field(description="True if this call stopped the job; False if it had already finished")
    job: JobView


class DeleteResult(BaseModel):
    job_id: str
    deleted: bool = Field(
        description="True if an image and history entry were removed; False if already gone"
    )


class UsageResult(BaseModel):
    since: datetime | None
    until: datetime | None
    jobs: int = Field(description="Jobs created in the period")
    images: int = Field(description="Completed images among them")
    by_status: dict[str, int]
    by_model: dict[str, int]
    estimated_cost_usd: float = Field(description="Sum of the catalog's price estimates for completed jobs")
    truncated: bool = Field(description="True when the period held more jobs than one call sums (10,000)")
    today: Today = Field(
        description="Your fair-use limits now: jobs in flight, images and estimated spend today (UTC)"
    )
