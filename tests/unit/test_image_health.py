"""What counts as a missing or damaged stored image."""

from __future__ import annotations

import pytest

from imagegen.domain.image_health import ImageProblem, StoredObject, examine, examine_content, explain
from imagegen.domain.models import ImageRef

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 92
REF = ImageRef(
    key="images/j.png", url="https://img.test/images/j.png", content_type="image/png", size_bytes=100
)


@pytest.mark.parametrize(
    ("stored", "problem"),
    [
        (StoredObject(size_bytes=100, content_type="image/png"), None),
        (None, ImageProblem.MISSING),
        (StoredObject(size_bytes=99, content_type="image/png"), ImageProblem.DAMAGED),
        (StoredObject(size_bytes=100, content_type="application/octet-stream"), ImageProblem.DAMAGED),
    ],
)
def test_examine_compares_the_object_with_what_was_stored(
    stored: StoredObject | None, problem: ImageProblem | None
) -> None:
    assert examine(REF, stored) is problem


@pytest.mark.parametrize(
    ("data", "decodes", "problem"),
    [
        (PNG, True, None),
        (None, True, ImageProblem.MISSING),
        (PNG[:50], True, ImageProblem.DAMAGED),
        (b"\xff\xd8\xff" + b"\x00" * 97, True, ImageProblem.DAMAGED),  # a JPEG where a PNG was stored
        (PNG, False, ImageProblem.DAMAGED),  # right size and signature, but no decoder can read it
    ],
)
def test_examine_content_also_looks_at_the_bytes(
    data: bytes | None, decodes: bool, problem: ImageProblem | None
) -> None:
    assert examine_content(REF, data, decodes=decodes) is problem


def test_each_explanation_names_the_job_and_the_way_out() -> None:
    for problem in ImageProblem:
        text = explain(problem, "job-1")
        assert "job-1" in text and "generate_image" in text
