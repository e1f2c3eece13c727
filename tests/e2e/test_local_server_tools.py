"""The local server through the real `mcp` client over HTTP: the tools as a model sees them."""

from __future__ import annotations

import io
import itertools
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp_types import CallToolResult
from PIL import Image

from imagegen.adapters.preview_provider import PreviewProvider
from tests.support.local_server import LocalServer, local_server

EXPECTED_TOOLS = {
    "generate_image",
    "get_job_status",
    "list_generations",
    "list_jobs",
    "wait_for_completion",
    "generate_image_and_wait",
    "list_models",
}


def error_text(result: CallToolResult) -> str:
    assert result.is_error, result
    return result.content[0].text  # type: ignore[union-attr]


def structured(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_tools_are_listed_with_schemas_and_annotations(server: LocalServer, mode: str) -> None:
    async with server.client(mode=mode) as client:
        listing = await client.list_tools()

    tools = {tool.name: tool for tool in listing.tools}
    assert set(tools) >= EXPECTED_TOOLS
    assert listing.next_cursor is None
    for tool in tools.values():
        assert tool.title and tool.description
        assert tool.output_schema is not None and tool.output_schema["type"] == "object"
        assert tool.annotations is not None
    assert tools["get_job_status"].annotations.read_only_hint is True  # type: ignore[union-attr]
    assert tools["generate_image"].annotations.idempotent_hint is False  # type: ignore[union-attr]
    assert tools["generate_image"].annotations.destructive_hint is False  # type: ignore[union-attr]
    prompt_schema = tools["generate_image"].input_schema["properties"]["prompt"]
    assert (prompt_schema["minLength"], prompt_schema["maxLength"]) == (1, 2048)
    model_schema = tools["generate_image"].input_schema["properties"]["model"]
    assert {"flux-schnell", "sdxl-lightning", "sdxl-base"} <= set(model_schema["enum"])
    limit_schema = tools["list_jobs"].input_schema["properties"]["limit"]
    assert (limit_schema["minimum"], limit_schema["maximum"]) == (1, 50)


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_generate_wait_and_fetch_image_at_requested_size(server: LocalServer, mode: str) -> None:
    async with server.client(mode=mode) as client:
        submitted = structured(
            await client.call_tool(
                "generate_image",
                {"prompt": "a red fox in snow", "model": "sdxl-lightning", "width": 640, "height": 384},
            )
        )
        waited = structured(await client.call_tool("wait_for_completion", {"job_id": submitted["job_id"]}))
        status = structured(await client.call_tool("get_job_status", {"job_id": submitted["job_id"]}))

    assert submitted["status"] == "pending"
    assert submitted["provider"] == "preview"
    assert waited["done"] is True and waited["status"] == "completed"
    assert status["status"] == "completed"
    assert status["provider"] == "preview"
    assert (status["width"], status["height"]) == (640, 384)
    response = httpx.get(waited["image_url"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(response.content)) as image:
        assert image.size == (640, 384)


async def test_generate_image_and_wait_returns_url_with_default_size(server: LocalServer) -> None:
    async with server.client() as client:
        result = await client.call_tool("generate_image_and_wait", {"prompt": "a lighthouse"})

    data = structured(result)
    assert data["status"] == "completed"
    assert data["image_url"] in result.content[0].text  # type: ignore[union-attr]
    with Image.open(io.BytesIO(httpx.get(data["image_url"]).content)) as image:
        assert image.size == (1024, 1024)


async def test_progress_notifications_reach_a_client_that_asked(tmp_path: Path) -> None:
    with local_server(
        tmp_path, provider=PreviewProvider(latency_seconds=1.5), progress_interval_seconds=0.3
    ) as slow:
        updates: list[tuple[float, float | None, str | None]] = []

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            updates.append((progress, total, message))

        async with slow.client() as client:
            result = await client.call_tool(
                "generate_image_and_wait", {"prompt": "a slow fox"}, progress_callback=on_progress
            )

    assert structured(result)["status"] == "completed"
    assert len(updates) >= 2
    progress = [update[0] for update in updates]
    assert all(later > earlier for earlier, later in itertools.pairwise(progress))
    assert {update[1] for update in updates} == {1}  # one job waited for
    assert all(0 <= value < 1 for value in progress)  # not finished until the result says so
    assert all("jobs finished" in (update[2] or "") for update in updates)


async def test_wait_timeout_is_a_normal_result_telling_the_model_to_call_again(tmp_path: Path) -> None:
    with local_server(tmp_path, provider=PreviewProvider(latency_seconds=1.0)) as slow:
        async with slow.client() as client:
            first = await client.call_tool(
                "generate_image_and_wait", {"prompt": "a fox", "timeout_seconds": 0.2}
            )
            data = structured(first)
            again = structured(
                await client.call_tool(
                    "wait_for_completion", {"job_id": data["job_id"], "timeout_seconds": 10}
                )
            )

    assert data["timed_out"] is True and data["done"] is False
    assert "wait_for_completion" in data["next_step"] and data["job_id"] in data["next_step"]
    assert again["status"] == "completed"


async def test_list_jobs_and_generations_page_with_totals(server: LocalServer) -> None:
    async with server.client() as client:
        batch = structured(await client.call_tool("generate_image", {"prompt": "a cat", "count": 3}))
        await client.call_tool("wait_for_completion", {"job_ids": batch["job_ids"]})
        first = structured(await client.call_tool("list_generations", {"limit": 2}))
        second = structured(
            await client.call_tool("list_generations", {"limit": 2, "cursor": first["next_cursor"]})
        )
        jobs = structured(await client.call_tool("list_jobs", {"status": "completed", "limit": 50}))

    assert (first["total_count"], first["returned_count"], first["has_more"]) == (3, 2, True)
    assert (second["returned_count"], second["has_more"]) == (1, False)
    paged = {g["job_id"] for g in first["generations"] + second["generations"]}
    assert paged == set(batch["job_ids"])
    assert {job["job_id"] for job in jobs["jobs"]} == set(batch["job_ids"])


async def test_list_models_describes_every_model(server: LocalServer) -> None:
    async with server.client() as client:
        data = structured(await client.call_tool("list_models", {}))

    models = {model["model"]: model for model in data["models"]}
    assert data["default_model"] == "flux-schnell"
    assert list(models["flux-schnell"]["parameters"]) == ["steps"]
    assert models["sdxl-base"]["parameters"]["width"]["maximum"] == 2048


@pytest.mark.parametrize(
    ("tool", "arguments", "expected"),
    [
        ("generate_image", {"prompt": ""}, "prompt is empty"),
        ("generate_image", {"prompt": "   "}, "prompt is empty"),
        ("generate_image", {"prompt": "x" * 2049}, "limit is 2048"),
        (
            "generate_image",
            {"prompt": "a fox", "model": "dall-e-3"},
            "Valid models: flux-schnell, sdxl-lightning",
        ),
        ("generate_image", {"prompt": "a fox", "width": 512}, "does not accept width"),
        ("generate_image", {"prompt": "a fox", "count": 21}, "count=21"),
        ("generate_image", {"prompt": 42}, "prompt"),
        ("generate_image", {}, "prompt"),
        ("list_generations", {"limit": 0}, "limit=0 is out of range"),
        ("list_generations", {"limit": 51}, "limit=51 is out of range"),
        ("list_generations", {"offset": -1}, "offset=-1 is negative"),
        ("list_generations", {"limit": "ten"}, "limit"),
        ("list_generations", {"cursor": "garbage"}, "cursor is not valid"),
        ("list_jobs", {"status": "done"}, "Use one of: all, pending"),
        ("list_jobs", {"created_after": "yesterday"}, "not an ISO-8601 time"),
        ("get_job_status", {"job_id": "abc"}, "malformed"),
        ("get_job_status", {"job_id": "00000000-0000-4000-8000-000000000000"}, "No job with id"),
        ("wait_for_completion", {}, "exactly one of job_id"),
        (
            "wait_for_completion",
            {"job_id": "00000000-0000-4000-8000-000000000000", "job_ids": []},
            "exactly one",
        ),
        ("wait_for_completion", {"job_ids": []}, "job_ids is empty"),
        ("wait_for_completion", {"job_ids": ["00000000-0000-4000-8000-000000000000"] * 21}, "at most 20"),
    ],
)
async def test_bad_input_is_a_tool_error_the_model_can_act_on(
    server: LocalServer, tool: str, arguments: dict[str, Any], expected: str
) -> None:
    async with server.client() as client:
        result = await client.call_tool(tool, arguments)

    assert expected in error_text(result)
