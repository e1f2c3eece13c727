"""Tasks through real clients on both backends: the TypeScript SDK's task API (2025-11-25) and the Python
`mcp` client with a tasks extension (2026-07-28), including a task that outlives its client's connection.

On the AWS path each client process and each request can land on a different Lambda execution
environment: a task created by one and read by another proves that no task state lives in memory.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Backend
from tests.support.node_scripts import run_node_report
from tests.support.rpc import post_rpc
from tests.support.tasks_extension import TasksClientExtension

ROOT = Path(__file__).resolve().parents[2]
TS_TASKS = ROOT / "tests" / "clients" / "ts_sdk_tasks.mjs"
TS_SDK = ROOT / "node_modules" / "@modelcontextprotocol" / "sdk"
NODE = shutil.which("node")
BATCH = 20

needs_node = pytest.mark.skipif(
    NODE is None or not TS_SDK.exists(), reason="needs node and `npm ci` (make test does)"
)


def ts_tasks(mode: str, backend: Backend, argument: str) -> dict[str, Any]:
    assert NODE is not None
    code, report = run_node_report(NODE, TS_TASKS, mode, backend.mcp_url, backend.token, argument)
    assert code == 0, report
    return report


@needs_node
def test_the_typescript_sdk_streams_a_task_from_creation_to_result(backend: Backend) -> None:
    report = ts_tasks("stream", backend, "2")

    assert report["serverTasks"]["requests"]["tools"]["call"] == {}
    assert report["taskSupport"]["generate_image_and_wait"] == "optional"
    assert report["events"][0] == "taskCreated" and report["events"][-1] == "result"
    assert report["lastStatus"]["status"] == "completed"
    assert report["result"]["structuredContent"]["completed_count"] == 2


@needs_node
def test_a_twenty_image_task_survives_its_client_disconnecting(backend: Backend) -> None:
    # Given a client that starts a 20-image batch as a task and goes away at once
    started = ts_tasks("start", backend, str(BATCH))
    task_id = started["created"]["taskId"]

    # When a new client process (a new connection; on AWS any environment) picks it up by its id
    resumed = ts_tasks("resume", backend, task_id)

    # Then it finds the task, waits for it and gets all twenty images
    assert started["created"]["status"] == "working"
    assert resumed["task"]["status"] == "completed"
    assert resumed["task"]["statusMessage"] == f"{BATCH}/{BATCH} jobs finished."
    result = resumed["result"]["structuredContent"]
    assert result["completed_count"] == BATCH and len({job["image_url"] for job in result["jobs"]}) == BATCH
    assert resumed["result"]["_meta"]["io.modelcontextprotocol/related-task"] == {"taskId": task_id}
    assert task_id in resumed["listed"]


@needs_node
def test_the_typescript_sdk_cancels_a_working_task(idle_backend: Backend) -> None:
    started = ts_tasks("start", idle_backend, "3")

    cancelled = ts_tasks("cancel", idle_backend, started["created"]["taskId"])

    assert cancelled["cancelled"]["status"] == "cancelled"
    assert cancelled["task"]["status"] == "cancelled"


def test_on_the_aws_path_a_task_is_read_by_an_environment_that_never_saw_it(
    aws_path: tuple[Any, int],
) -> None:
    aws, _ = aws_path
    created = post_rpc(
        aws.mcp_url,
        aws.token,
        "tools/call",
        {"name": "generate_image_and_wait", "arguments": {"prompt": "a beacon", "count": 2}, "task": {}},
        version="2025-11-25",
    )["result"]["task"]

    # Every environment that served the creation is gone; the next request starts a new one
    reclaimed = aws.stack.api.reclaim_idle()
    environments_before = {label for label, _ in aws.logs.lines if label.startswith("mcp_api")}
    read = post_rpc(aws.mcp_url, aws.token, "tasks/get", {"taskId": created["taskId"]}, version="2025-11-25")
    environments_after = {label for label, _ in aws.logs.lines if label.startswith("mcp_api")}

    assert reclaimed >= 1
    assert environments_after - environments_before, "the read ran in a new environment"
    assert read["result"]["taskId"] == created["taskId"]
    assert read["result"]["status"] in ("working", "completed")


async def test_the_python_client_with_the_tasks_extension_gets_its_result_through_a_task(
    backend: Backend,
) -> None:
    tasks = TasksClientExtension()
    async with backend.client(mode="2026-07-28", extensions=[tasks]) as client:
        waited = await client.call_tool("generate_image_and_wait", {"prompt": "a windmill", "count": 3})
        quick = await client.call_tool("generate_image", {"prompt": "a mill pond"})

    # The waiting call was answered with a task and resolved by polling; the quick one was answered directly
    assert len(tasks.handles) == 1 and tasks.handles[0].status == "working"
    assert tasks.finished[0].status == "completed" and tasks.polls >= 1
    assert not waited.is_error and waited.structured_content is not None
    assert waited.structured_content["completed_count"] == 3
    assert quick.structured_content is not None and quick.structured_content["status"] == "pending"
