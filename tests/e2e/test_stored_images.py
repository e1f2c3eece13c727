"""A completed job whose stored image went missing or was damaged says so, on both backends: in its status,
in the lists, in resources/read and in a repeated wait, never with a URL that 404s as if all were well."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from mcp import Client
from mcp_types import ResourceLink

from tests.e2e.conftest import Backend, structured


async def completed_image(client: Client, prompt: str) -> tuple[str, str]:
    done = structured(
        await client.call_tool("generate_image_and_wait", {"prompt": prompt, "timeout_seconds": 20})
    )
    assert done["status"] == "completed", done
    return done["job_id"], done["image_url"]


def key_of(image_url: str) -> str:
    # Image URLs are the public base URL + the object key, which is images/<job id>.<extension>.
    return "/".join(urlsplit(image_url).path.split("/")[-2:])


def entry(listing: dict[str, Any], field: str, job_id: str) -> dict[str, Any]:
    return next(item for item in listing[field] if item["job_id"] == job_id)


@pytest.mark.parametrize(
    ("change", "problem", "words"),
    [
        ("delete", "missing", "no longer in storage"),
        ("truncate", "damaged", "is damaged"),
        ("replace", "damaged", "is damaged"),
    ],
)
async def test_given_a_lost_image_then_every_way_of_reading_the_job_says_so(
    backend: Backend, change: str, problem: str, words: str
) -> None:
    async with backend.client() as client:
        # Given a completed image that then goes missing, or whose bytes are cut short or replaced
        job_id, image_url = await completed_image(client, f"a lighthouse to {change}")
        original = httpx.get(image_url).content
        replacement = {
            "delete": None,
            "truncate": original[: len(original) // 2],
            "replace": b"\x89PNG" + b"0" * 9,
        }
        backend.tamper(key_of(image_url), replacement[change])

        # When the client reads the job every way it can
        status_result = await client.call_tool("get_job_status", {"job_id": job_id})
        jobs = structured(await client.call_tool("list_jobs", {"limit": 50}))
        images = structured(await client.call_tool("list_generations", {"limit": 50}))
        waited = structured(await client.call_tool("wait_for_completion", {"job_id": job_id}))
        with pytest.raises(Exception, match=words) as read_error:
            await client.read_resource(f"image://{job_id}")

    # Then each says what became of the image and what to do, and offers no link to it
    status = structured(status_result)
    for view in (
        status,
        entry(jobs, "jobs", job_id),
        entry(images, "generations", job_id),
        waited["jobs"][0],
    ):
        assert view["image_problem"] == problem
        assert words in view["image_problem_message"] and "generate_image" in view["image_problem_message"]
    assert words in status_result.content[0].text  # type: ignore[union-attr]
    assert not [block for block in status_result.content if isinstance(block, ResourceLink)]
    assert "generate them again" in waited["next_step"]
    assert "No job" not in str(read_error.value)


async def test_given_healthy_images_then_nothing_is_reported(backend: Backend) -> None:
    async with backend.client() as client:
        job_id, _ = await completed_image(client, "a healthy lighthouse")
        status = structured(await client.call_tool("get_job_status", {"job_id": job_id}))
        read = await client.read_resource(f"image://{job_id}")

    assert "image_problem" not in status or status["image_problem"] is None
    assert read.contents[0].mime_type == status["content_type"]  # type: ignore[union-attr]


async def test_given_a_damaged_file_then_the_local_server_does_not_serve_it_as_an_image(
    backend: Backend,
) -> None:
    if backend.name != "local":
        pytest.skip("on AWS images are served by the R2 bucket itself")
    async with backend.client() as client:
        _, image_url = await completed_image(client, "a lighthouse to damage")
    backend.tamper(key_of(image_url), httpx.get(image_url).content[:100])

    response = httpx.get(image_url)

    assert response.status_code == 410
    assert response.headers["content-type"].startswith("application/json")
    assert "damaged" in response.json()["error_description"]
