"""Is a completed job's stored image still what was stored? Missing or damaged images are said so, with
what to do, instead of a URL that 404s or bytes served under a type they do not have.

Two depths: `examine` compares what the store says about the object (size, type) with what was recorded
when it was written, which costs one HEAD (a stat locally); `examine_content` also looks at the bytes, for
the paths that read them anyway.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from imagegen.domain.errors import ImagegenError
from imagegen.domain.image_format import detect_image_format
from imagegen.domain.models import ImageRef


class ImageProblem(StrEnum):
    MISSING = "missing"
    DAMAGED = "damaged"


class StoredObject(BaseModel):
    """What the image store says about an object without reading it."""

    model_config = ConfigDict(frozen=True)

    size_bytes: int
    content_type: str


_EXPLANATIONS = {
    ImageProblem.MISSING: (
        "The image of job {job_id} is no longer in storage (it was deleted or lost outside this server). "
        "Generate it again with generate_image (same prompt, model and seed)."
    ),
    ImageProblem.DAMAGED: (
        "The stored image of job {job_id} is damaged (its bytes are not the image that was stored), so it "
        "is not served. Generate it again with generate_image (same prompt, model and seed)."
    ),
}


def explain(problem: ImageProblem, job_id: str) -> str:
    return _EXPLANATIONS[problem].format(job_id=job_id)


class ImageUnavailable(ImagegenError):
    """A completed job's image cannot be served: it is missing from the store or damaged."""

    def __init__(self, problem: ImageProblem, job_id: str) -> None:
        super().__init__(explain(problem, job_id))
        self.problem = problem
        self.job_id = job_id


def examine(ref: ImageRef, stored: StoredObject | None) -> ImageProblem | None:
    if stored is None:
        return ImageProblem.MISSING
    if stored.size_bytes != ref.size_bytes or stored.content_type != ref.content_type:
        return ImageProblem.DAMAGED
    return None


def examine_content(ref: ImageRef, data: bytes | None, *, decodes: bool = True) -> ImageProblem | None:
    """`decodes`: whether an image decoder could read the bytes (the caller's check; the domain has none)."""
    if data is None:
        return ImageProblem.MISSING
    found = detect_image_format(data)
    if len(data) != ref.size_bytes or found is None or found.content_type != ref.content_type or not decodes:
        return ImageProblem.DAMAGED
    return None
