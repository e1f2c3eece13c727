"""Parity with the original's live code: count, multi-job waits and their errors, via the real mcp client."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from imagegen.adapters.preview_provider import PreviewProvider
from imagegen.domain.errors import ProviderError, ReasonCode
from imagegen.ports import GeneratedImage, GenerationRequest
from tests.support.local_server import LocalServer, local_server


class FlaggedOnCall(PreviewProvider):
    """Draws previews, but the provider flags the n-th request as unsafe content."""

    def __init__(self, flagged_call: int) -> None:
        super().__init__()
        self.calls = 0
        self.flagged_call = flagged_call

    async def generate(self, request: GenerationRequest) -> GeneratedImage:
        self.calls += 1
        if self.calls == self.flagged_call:
            raise ProviderError(ReasonCode.CONTENT_FILTERED, "The prompt was flagged (3030).")
        return await super().generate(request)


def data(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    return result.structured_content  # type: ignore[no-any-return]


async def test_count_five_gives_five_distinct_jobs_that_all_complete(server: LocalServer) -> None:
    async with server.client() as client:
        batch = data(await client.call_tool("generate_image", {"prompt": "five foxes", "count": 5}))
        waited = data(await client.call_tool("wait_for_completion", {"job_ids": batch["job_ids"]}))

    assert batch["job_id"] is None and len(set(batch["job_ids"])) == 5
    assert batch["batch_id"] is not None
    assert waited["status"] == "completed" and waited["completed_count"] == 5
    assert len({job["image_url"] for job in waited["jobs"]}) == 5


async def test_waiting_on_a_batch_reports_the_failed_job_beside_the_completed_ones(tmp_path: Path) -> None:
    with local_server(tmp_path, provider=FlaggedOnCall(flagged_call=3), worker_concurrency=1) as srv:
        async with srv.client() as client:
            waited = data(
                await client.call_tool("generate_image_and_wait", {"prompt": "five owls", "count": 5})
            )

    assert (waited["status"], waited["done"], waited["timed_out"]) == ("partial", True, False)
    assert (waited["completed_count"], waited["failed_count"]) == (4, 1)
    [failed] = [job for job in waited["jobs"] if job["status"] == "failed"]
    assert failed["error_code"] == "content_filtered" and "3030" in failed["error_message"]
    assert all(job["image_url"] for job in waited["jobs"] if job["status"] == "completed")


@pytest.mark.parametrize("count", [0, 21, -1])
async def test_count_out_of_range_is_a_clear_error(server: LocalServer, count: int) -> None:
    async with server.client() as client:
        result = await client.call_tool("generate_image", {"prompt": "foxes", "count": count})

    assert result.is_error
    assert f"count={count} is out of range: generate 1 to 20" in result.content[0].text  # type: ignore[union-attr]
