"""MCP Tasks on the wire, on both backends and both protocol revisions: 2025-11-25 (task-augmented
`tools/call`, `tasks/get`, `tasks/result`, `tasks/list`, `tasks/cancel`) and 2026-07-28 (the
`io.modelcontextprotocol/tasks` extension: task handles, `tasks/get` with the result inline,
`tasks/cancel`, `tasks/update`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Backend
from tests.support.rpc import MODERN_VERSION, TASKS_EXTENSION, post_rpc

LEGACY = "2025-11-25"
WITH_TASKS = {TASKS_EXTENSION: {}}


def legacy(backend: Backend, method: str, params: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    return post_rpc(backend.mcp_url, token or backend.token, method, params, version=LEGACY)


def modern(
    backend: Backend, method: str, params: dict[str, Any], *, declared: bool = True, token: str | None = None
) -> dict[str, Any]:
    return post_rpc(
        backend.mcp_url,
        token or backend.token,
        method,
        params,
        version=MODERN_VERSION,
        extensions=WITH_TASKS if declared else None,
    )


def result_of(answer: dict[str, Any]) -> dict[str, Any]:
    assert "result" in answer, answer
    return dict(answer["result"])


def start_task(backend: Backend, tool: str, arguments: dict[str, Any], **task: Any) -> dict[str, Any]:
    """A 2025-11-25 task-augmented tools/call; its CreateTaskResult."""
    return result_of(legacy(backend, "tools/call", {"name": tool, "arguments": arguments, "task": task}))


def until_finished(get: Callable[[], dict[str, Any]], interval_key: str) -> dict[str, Any]:
    """Poll as a client does, at the interval the server suggests, until the task is no longer working."""
    deadline = time.monotonic() + 60
    while True:
        task = result_of(get())
        if task["status"] != "working" or time.monotonic() > deadline:
            return task
        time.sleep(task[interval_key] / 1000)


def legacy_until_finished(backend: Backend, task_id: str) -> dict[str, Any]:
    return until_finished(lambda: legacy(backend, "tasks/get", {"taskId": task_id}), "pollInterval")


def modern_until_finished(backend: Backend, task_id: str) -> dict[str, Any]:
    return until_finished(lambda: modern(backend, "tasks/get", {"taskId": task_id}), "pollIntervalMs")


# ---------------------------------------------------------------- 2025-11-25


def test_the_server_declares_tasks_and_which_tools_may_run_as_tasks(backend: Backend) -> None:
    initialized = result_of(
        legacy(
            backend,
            "initialize",
            {"protocolVersion": LEGACY, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
        )
    )
    tools = result_of(legacy(backend, "tools/list", {}))["tools"]

    assert initialized["capabilities"]["tasks"] == {
        "list": {},
        "cancel": {},
        "requests": {"tools": {"call": {}}},
    }
    support = {tool["name"]: tool.get("execution", {}).get("taskSupport") for tool in tools}
    assert support["generate_image_and_wait"] == support["wait_for_completion"] == "optional"
    assert support["generate_image"] == "optional"
    assert support["list_jobs"] is None  # absent: forbidden


def test_a_task_augmented_call_returns_a_task_at_once_and_its_result_later(backend: Backend) -> None:
    # Given a batch started as a task
    started = time.monotonic()
    created = start_task(
        backend, "generate_image_and_wait", {"prompt": "a lighthouse", "count": 3}, ttl=600_000
    )
    answered_in = time.monotonic() - started
    task = created["task"]

    # When the client polls until it is done and asks for the result
    finished = legacy_until_finished(backend, task["taskId"])
    payload = result_of(legacy(backend, "tasks/result", {"taskId": task["taskId"]}))
    listed = result_of(legacy(backend, "tasks/list", {}))["tasks"]

    # Then the task came back working, finished completed, and its result is the tool's own answer
    assert task["status"] == "working" and task["ttl"] == 600_000 and task["pollInterval"] >= 1000
    assert answered_in < 20, "a task is returned at once, not after the generation"
    assert "model-immediate-response" in next(iter(created["_meta"]))
    assert finished["status"] == "completed" and finished["statusMessage"] == "3/3 jobs finished."
    assert payload["structuredContent"]["status"] == "completed"
    assert payload["structuredContent"]["completed_count"] == 3
    assert payload["_meta"]["io.modelcontextprotocol/related-task"] == {"taskId": task["taskId"]}
    assert task["taskId"] in [item["taskId"] for item in listed]


def test_generate_image_as_a_task_completes_at_once_with_the_queued_answer(backend: Backend) -> None:
    created = start_task(backend, "generate_image", {"prompt": "a fox"})
    payload = result_of(legacy(backend, "tasks/result", {"taskId": created["task"]["taskId"]}))

    assert created["task"]["status"] == "completed"
    assert payload["structuredContent"]["status"] == "pending" and payload["structuredContent"]["job_id"]


def test_a_refused_call_becomes_a_failed_task_whose_result_says_why(backend: Backend) -> None:
    created = start_task(backend, "generate_image_and_wait", {"prompt": ""})
    payload = result_of(legacy(backend, "tasks/result", {"taskId": created["task"]["taskId"]}))

    assert created["task"]["status"] == "failed"
    assert payload["isError"] is True and "prompt" in payload["content"][0]["text"]


def test_a_tool_that_cannot_run_as_a_task_is_method_not_found(backend: Backend) -> None:
    answer = legacy(backend, "tools/call", {"name": "list_jobs", "arguments": {}, "task": {}})

    assert answer["error"]["code"] == -32601


@pytest.mark.parametrize("method", ["tasks/get", "tasks/result", "tasks/cancel"])
def test_an_unknown_or_malformed_task_id_is_invalid_params(backend: Backend, method: str) -> None:
    for task_id in ("0e4f3c2a-1111-4222-8333-944455556666", "not-a-task"):
        answer = legacy(backend, method, {"taskId": task_id})

        assert answer["error"]["code"] == -32602 and "task" in answer["error"]["message"].lower()


def test_another_clients_task_reads_as_not_found_and_is_not_listed(backend: Backend) -> None:
    created = start_task(backend, "generate_image", {"prompt": "mine"})
    task_id = created["task"]["taskId"]

    seen = legacy(backend, "tasks/get", {"taskId": task_id}, token=backend.other_token)
    cancelled = legacy(backend, "tasks/cancel", {"taskId": task_id}, token=backend.other_token)
    listed = result_of(legacy(backend, "tasks/list", {}, token=backend.other_token))["tasks"]

    assert seen["error"]["code"] == cancelled["error"]["code"] == -32602
    assert task_id not in [item["taskId"] for item in listed]


def test_a_bad_task_list_cursor_is_invalid_params(backend: Backend) -> None:
    answer = legacy(backend, "tasks/list", {"cursor": "not-a-cursor"})

    assert answer["error"]["code"] == -32602


def test_a_working_task_is_cancelled_with_its_jobs_and_cannot_be_cancelled_twice(
    idle_backend: Backend,
) -> None:
    created = start_task(idle_backend, "generate_image_and_wait", {"prompt": "never drawn", "count": 2})
    task_id = created["task"]["taskId"]

    cancelled = result_of(legacy(idle_backend, "tasks/cancel", {"taskId": task_id}))
    again = legacy(idle_backend, "tasks/cancel", {"taskId": task_id})
    payload = result_of(legacy(idle_backend, "tasks/result", {"taskId": task_id}))

    assert (
        cancelled["status"] == "cancelled"
        and cancelled["statusMessage"] == "The task was cancelled by request."
    )
    assert again["error"]["code"] == -32602 and "already cancelled" in again["error"]["message"]
    assert [job["status"] for job in payload["structuredContent"]["jobs"]] == ["cancelled", "cancelled"]


# ---------------------------------------------------------------- 2026-07-28


def test_a_declaring_client_gets_a_task_handle_and_then_the_result_inline(backend: Backend) -> None:
    handle = result_of(
        modern(
            backend,
            "tools/call",
            {"name": "generate_image_and_wait", "arguments": {"prompt": "a harbour", "count": 2}},
        )
    )
    finished = modern_until_finished(backend, handle["taskId"])

    assert handle["resultType"] == "task" and handle["status"] == "working"
    assert handle["ttlMs"] > 0 and handle["pollIntervalMs"] >= 1000
    assert finished["resultType"] == "complete" and finished["status"] == "completed"
    assert finished["result"]["structuredContent"]["completed_count"] == 2
    assert finished["result"]["resultType"] == "complete"


def test_a_client_that_does_not_declare_tasks_gets_the_ordinary_result(backend: Backend) -> None:
    answer = result_of(
        modern(
            backend,
            "tools/call",
            {"name": "generate_image_and_wait", "arguments": {"prompt": "a quay"}},
            declared=False,
        )
    )

    assert answer["resultType"] == "complete" and answer["structuredContent"]["status"] == "completed"


def test_quick_tools_answer_directly_even_for_a_declaring_client(backend: Backend) -> None:
    answer = result_of(
        modern(backend, "tools/call", {"name": "generate_image", "arguments": {"prompt": "a pier"}})
    )

    assert answer["resultType"] == "complete" and answer["structuredContent"]["status"] == "pending"


def test_a_refused_call_is_a_completed_task_carrying_the_tool_error(backend: Backend) -> None:
    handle = result_of(
        modern(backend, "tools/call", {"name": "wait_for_completion", "arguments": {"job_id": "not-a-job"}})
    )
    task = result_of(modern(backend, "tasks/get", {"taskId": handle["taskId"]}))

    assert task["status"] == "completed" and task["result"]["isError"] is True


def test_task_methods_need_the_declared_extension(backend: Backend) -> None:
    handle = result_of(
        modern(backend, "tools/call", {"name": "generate_image_and_wait", "arguments": {"prompt": "a"}})
    )

    answer = modern(backend, "tasks/get", {"taskId": handle["taskId"]}, declared=False)

    assert answer["error"]["code"] == -32021
    assert answer["error"]["data"]["requiredCapabilities"] == {"extensions": WITH_TASKS}


def test_legacy_only_methods_are_not_found_on_2026_07_28(backend: Backend) -> None:
    for method in ("tasks/result", "tasks/list"):
        assert modern(backend, method, {"taskId": "x"})["error"]["code"] == -32601


def test_a_modern_task_is_cancelled_and_update_is_acknowledged(idle_backend: Backend) -> None:
    handle = result_of(
        modern(
            idle_backend, "tools/call", {"name": "generate_image_and_wait", "arguments": {"prompt": "never"}}
        )
    )
    task_id = handle["taskId"]

    updated = result_of(modern(idle_backend, "tasks/update", {"taskId": task_id, "inputResponses": {}}))
    cancelled = result_of(modern(idle_backend, "tasks/cancel", {"taskId": task_id}))
    task = result_of(modern(idle_backend, "tasks/get", {"taskId": task_id}))

    assert updated["resultType"] == cancelled["resultType"] == "complete"
    assert task["status"] == "cancelled"
    assert (
        modern(idle_backend, "tasks/get", {"taskId": task_id}, token=idle_backend.other_token)["error"][
            "code"
        ]
        == -32602
    )


@pytest.mark.parametrize("name", [None, "another-task"])
def test_a_task_request_must_name_its_task_in_the_mcp_name_header(backend: Backend, name: str | None) -> None:
    handle = result_of(
        modern(backend, "tools/call", {"name": "generate_image", "arguments": {"prompt": "x"}})
    )
    job_task = result_of(
        modern(
            backend,
            "tools/call",
            {"name": "wait_for_completion", "arguments": {"job_id": handle["structuredContent"]["job_id"]}},
        )
    )
    meta = {
        "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
        "io.modelcontextprotocol/clientCapabilities": {"extensions": WITH_TASKS},
    }
    headers = {
        "authorization": f"Bearer {backend.token}",
        "accept": "application/json, text/event-stream",
        "mcp-protocol-version": MODERN_VERSION,
        "mcp-method": "tasks/get",
        **({"mcp-name": name} if name else {}),
    }

    response = httpx.post(
        backend.mcp_url,
        json={
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tasks/get",
            "params": {"taskId": job_task["taskId"], "_meta": meta},
        },
        headers=headers,
        timeout=30,
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == -32020
