"""Beyond the original: per-client keys, cancel, delete, images as resources, usage — via the real client."""

from __future__ import annotations

import base64
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp_types import BlobResourceContents, ImageContent, ResourceLink, TextResourceContents
from PIL import Image

from imagegen.adapters.preview_provider import PreviewProvider
from imagegen.ports import GeneratedImage, GenerationRequest
from imagegen.web.auth import KeyRing
from tests.support.local_server import LocalServer, local_server

ALICE = "alice-token-0123456789"
BOB = "bob-token-0123456789ab"
ROOT = "root-token-0123456789a"


@pytest.fixture
def shared(tmp_path: Path) -> Iterator[LocalServer]:
    keyring = KeyRing.from_tokens({"alice": ALICE, "bob": BOB, "root": ROOT}, admin="root")
    with local_server(tmp_path, keyring=keyring) as running:
        yield running


def data(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    return result.structured_content  # type: ignore[no-any-return]


async def test_two_clients_never_see_each_others_jobs_images_or_usage(shared: LocalServer) -> None:
    async with shared.client(ALICE) as alice, shared.client(BOB) as bob, shared.client(ROOT) as root:
        mine = data(await alice.call_tool("generate_image_and_wait", {"prompt": "alice's fox"}))
        job_id = mine["job_id"]

        status = await bob.call_tool("get_job_status", {"job_id": job_id})
        waited = await bob.call_tool("wait_for_completion", {"job_id": job_id})
        deleted = await bob.call_tool("delete_generation", {"job_id": job_id})
        cancelled = await bob.call_tool("cancel_job", {"job_id": job_id})
        bob_jobs = data(await bob.call_tool("list_jobs", {}))
        bob_images = data(await bob.call_tool("list_generations", {}))
        bob_usage = data(await bob.call_tool("get_usage", {}))
        alice_usage = data(await alice.call_tool("get_usage", {}))
        admin_jobs = data(await root.call_tool("list_jobs", {}))
        with pytest.raises(Exception, match="No job"):
            await bob.read_resource(f"image://{job_id}")

    for refused in (status, waited, deleted, cancelled):
        assert refused.is_error and "No job with id" in refused.content[0].text  # type: ignore[union-attr]
    assert bob_jobs["total_count"] == 0 and bob_images["total_count"] == 0
    assert bob_usage["jobs"] == 0
    assert alice_usage["jobs"] == 1 and alice_usage["images"] == 1
    assert [job["job_id"] for job in admin_jobs["jobs"]] == [job_id]


async def test_completed_result_links_the_image_resource_with_a_small_thumbnail(shared: LocalServer) -> None:
    async with shared.client(ALICE) as client:
        result = await client.call_tool(
            "generate_image_and_wait", {"prompt": "a lighthouse", "model": "sdxl-base"}
        )
        job_id = data(result)["job_id"]
        read = await client.read_resource(f"image://{job_id}")
        templates = await client.list_resource_templates()
        recent = await client.read_resource("images://recent")

    links = [block for block in result.content if isinstance(block, ResourceLink)]
    thumbs = [block for block in result.content if isinstance(block, ImageContent)]
    assert [str(link.uri) for link in links] == [f"image://{job_id}"]
    assert len(thumbs) == 1
    thumbnail = base64.b64decode(thumbs[0].data)
    assert len(thumbnail) < 100_000
    with Image.open(io.BytesIO(thumbnail)) as image:
        assert max(image.size) == 256
    [blob] = read.contents
    assert isinstance(blob, BlobResourceContents) and blob.mime_type == "image/png"
    assert base64.b64decode(blob.blob) == httpx.get(data(result)["image_url"]).content
    [template] = [t for t in templates.resource_templates if t.uri_template == "image://{job_id}"]
    assert template.mime_type is None  # images come in several formats; each read names its own
    [listing] = recent.contents
    assert isinstance(listing, TextResourceContents)
    assert json.loads(listing.text)[0]["uri"] == f"image://{job_id}"


async def test_delete_removes_image_and_history_and_is_idempotent(shared: LocalServer) -> None:
    async with shared.client(ALICE) as client:
        done = data(await client.call_tool("generate_image_and_wait", {"prompt": "to delete"}))
        first = data(await client.call_tool("delete_generation", {"job_id": done["job_id"]}))
        second = data(await client.call_tool("delete_generation", {"job_id": done["job_id"]}))
        listing = data(await client.call_tool("list_generations", {}))
        status = data(await client.call_tool("get_job_status", {"job_id": done["job_id"]}))
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}

    assert (first["deleted"], second["deleted"]) == (True, False)
    assert listing["total_count"] == 0
    assert httpx.get(done["image_url"]).status_code == 404
    assert status["status"] == "completed" and status["image_url"] is None
    assert tools["delete_generation"].annotations.destructive_hint is True  # type: ignore[union-attr]


async def test_cancel_in_each_state(tmp_path: Path) -> None:
    with local_server(tmp_path, provider=PreviewProvider(latency_seconds=1.0), worker_concurrency=1) as srv:
        async with srv.client() as client:
            running = data(await client.call_tool("generate_image", {"prompt": "runs first"}))
            queued = data(await client.call_tool("generate_image", {"prompt": "waits in line"}))
            await client.call_tool(
                "wait_for_completion", {"job_id": running["job_id"], "timeout_seconds": 0.3}
            )

            cancel_processing = data(await client.call_tool("cancel_job", {"job_id": running["job_id"]}))
            cancel_pending = data(await client.call_tool("cancel_job", {"job_id": queued["job_id"]}))
            waited = data(
                await client.call_tool(
                    "wait_for_completion", {"job_ids": [running["job_id"], queued["job_id"]]}
                )
            )
            finished = data(await client.call_tool("generate_image_and_wait", {"prompt": "done"}))
            cancel_done = data(await client.call_tool("cancel_job", {"job_id": finished["job_id"]}))
            images = data(await client.call_tool("list_generations", {}))

    assert cancel_processing["cancelled"] and cancel_processing["status"] == "cancelled"
    assert cancel_pending["cancelled"] and cancel_pending["status"] == "cancelled"
    assert waited["done"] and waited["elapsed_seconds"] < 0.5
    assert (waited["status"], waited["cancelled_count"], waited["failed_count"]) == ("cancelled", 2, 0)
    assert "generate_image" not in waited["next_step"]
    assert not cancel_done["cancelled"] and cancel_done["status"] == "completed"
    assert [g["job_id"] for g in images["generations"]] == [finished["job_id"]]


class NoisyProvider(PreviewProvider):
    """Incompressible 1200x1200 PNGs (about 4.3 MB): more than a Lambda response can carry inline."""

    async def generate(self, request: GenerationRequest) -> GeneratedImage:
        buffer = io.BytesIO()
        Image.frombytes("RGB", (1200, 1200), os.urandom(1200 * 1200 * 3)).save(
            buffer, format="PNG", compress_level=0
        )
        return GeneratedImage(
            data=buffer.getvalue(), content_type="image/png", extension="png", width=1200, height=1200
        )


async def test_an_image_too_large_to_inline_points_to_its_url(tmp_path: Path) -> None:
    with local_server(tmp_path, provider=NoisyProvider()) as srv:
        async with srv.client() as client:
            done = data(await client.call_tool("generate_image_and_wait", {"prompt": "static"}))
            with pytest.raises(Exception, match="too large to send inline") as raised:
                await client.read_resource(f"image://{done['job_id']}")

    assert done["image_url"] in str(raised.value)


async def test_a_legacy_sse_session_only_accepts_the_key_that_opened_it(shared: LocalServer) -> None:
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {}}
    headers = {"authorization": f"Bearer {ALICE}"}
    async with (
        httpx.AsyncClient(timeout=5) as http,
        http.stream("GET", f"{shared.url}/sse", headers=headers) as stream,
    ):
        lines = stream.aiter_lines()
        endpoint = ""
        while not endpoint:
            line = await anext(lines)
            endpoint = line[5:].strip() if line.startswith("data:") else ""

        bob = await http.post(shared.url + endpoint, json=ping, headers={"authorization": f"Bearer {BOB}"})
        alice = await http.post(
            shared.url + endpoint, json=ping, headers={"authorization": f"Bearer {ALICE}"}
        )

    assert (bob.status_code, alice.status_code) == (404, 202)
