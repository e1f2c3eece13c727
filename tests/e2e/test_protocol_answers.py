"""Every protocol answer by the specification (2025-11-25, and 2026-07-28 where it differs), on both
backends: errors with the right JSON-RPC codes, only implemented capabilities declared, input schemas
that say what the server enforces, and odd but valid input answered in plain words."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Backend

HANDSHAKE = "2025-11-25"


def post(
    backend: Backend, body: bytes | dict[str, Any] | list[Any], version: str | None = HANDSHAKE
) -> httpx.Response:
    headers = {
        "authorization": f"Bearer {backend.token}",
        "accept": "application/json, text/event-stream",
        "content-type": "application/json",
    }
    if version is not None:
        headers["mcp-protocol-version"] = version
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(backend.mcp_url, content=content, headers=headers, timeout=30)


def message(response: httpx.Response) -> dict[str, Any]:
    if response.headers["content-type"].startswith("text/event-stream"):
        data = [line[5:].strip() for line in response.text.splitlines() if line.startswith("data:")]
        return dict(json.loads(data[-1]))
    return dict(response.json())


def rpc(method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": 7, "method": method, "params": params or {}}


def call(backend: Backend, name: str, arguments: dict[str, Any] | str) -> dict[str, Any]:
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
    body = f'{{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{{"name":"{name}","arguments":{raw}}}}}'
    return message(post(backend, body.encode()))


def tool_error(answer: dict[str, Any]) -> str:
    result = answer["result"]
    assert result["isError"] is True, result
    text = str(result["content"][0]["text"])
    assert text != f"Error executing tool {result.get('name', '')}".strip()
    return text


# ---------------------------------------------------------------- JSON-RPC errors


def test_an_unknown_tool_is_a_json_rpc_invalid_params_error(backend: Backend) -> None:
    answer = call(backend, "nope", {})

    assert "result" not in answer
    assert answer["error"]["code"] == -32602
    assert "nope" in answer["error"]["message"] and "generate_image" in answer["error"]["message"]


@pytest.mark.parametrize(
    "body",
    [
        [{"jsonrpc": "2.0", "id": 1, "method": "ping"}, {"jsonrpc": "2.0", "id": 2, "method": "ping"}],
        {"id": 1, "method": "ping"},
        {"jsonrpc": "1.0", "id": 1, "method": "ping"},
    ],
    ids=["batch", "no-jsonrpc", "wrong-jsonrpc"],
)
def test_a_malformed_envelope_is_invalid_request(backend: Backend, body: Any) -> None:
    response = post(backend, body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == -32600


def test_an_unsupported_protocol_version_names_the_supported_ones(backend: Backend) -> None:
    response = post(backend, rpc("ping"), version="1999-01-01")

    assert response.status_code == 400
    error = response.json()["error"]
    assert "1999-01-01" in error["message"]
    assert {"2025-11-25", "2025-06-18", "2026-07-28"} <= set(error["data"]["supported"])
    assert "_meta" not in error["message"]


@pytest.mark.parametrize("method", ["tools/list", "resources/list"])
def test_a_cursor_that_no_page_returned_is_invalid_params(backend: Backend, method: str) -> None:
    answer = message(post(backend, rpc(method, {"cursor": "not-a-cursor"})))

    assert answer["error"]["code"] == -32602


@pytest.mark.parametrize("method", ["prompts/list", "prompts/get", "resources/subscribe"])
def test_unimplemented_methods_are_method_not_found(backend: Backend, method: str) -> None:
    params = {"name": "x"} if method == "prompts/get" else {"uri": "images://recent"}
    answer = message(post(backend, rpc(method, params)))

    assert answer["error"]["code"] == -32601


# ---------------------------------------------------------------- capabilities


async def test_the_handshake_declares_only_what_is_implemented(backend: Backend) -> None:
    async with backend.client() as client:
        capabilities = client.server_capabilities.model_dump(exclude_none=True)

    assert capabilities.get("prompts") is None
    assert "tools" in capabilities and "resources" in capabilities
    assert not capabilities["resources"].get("subscribe")
    assert not capabilities["resources"].get("listChanged", capabilities["resources"].get("list_changed"))


def test_discovery_under_2026_07_28_declares_only_what_is_implemented(backend: Backend) -> None:
    meta = {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
    }
    response = httpx.post(
        backend.mcp_url,
        json={"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": meta}},
        headers={
            "authorization": f"Bearer {backend.token}",
            "accept": "application/json, text/event-stream",
            "mcp-protocol-version": "2026-07-28",
            "mcp-method": "server/discover",
        },
        timeout=30,
    )

    capabilities = message(response)["result"]["capabilities"]
    assert set(capabilities) == {"tools", "resources", "extensions"}
    assert capabilities["extensions"] == {"io.modelcontextprotocol/tasks": {}}
    assert capabilities["resources"]["subscribe"] is False
    assert capabilities["resources"]["listChanged"] is False and capabilities["tools"]["listChanged"] is False


# ---------------------------------------------------------------- schemas


async def test_input_schemas_say_what_the_server_enforces(backend: Backend) -> None:
    async with backend.client() as client:
        tools = {tool.name: tool.input_schema for tool in (await client.list_tools()).tools}

    for name, schema in tools.items():
        assert schema["additionalProperties"] is False, name
        for argument, prop in schema["properties"].items():
            assert "title" not in prop, (name, argument)
            if "enum" in prop and "default" in prop:
                assert prop["default"] in prop["enum"], (name, argument)
            assert prop.get("default", "") is not None, (name, argument)
    wait = tools["wait_for_completion"]
    assert wait["oneOf"] == [{"required": ["job_id"]}, {"required": ["job_ids"]}]
    assert tools["list_jobs"]["properties"]["model"]["type"] == "string"


# ---------------------------------------------------------------- arguments in plain words


def test_an_unknown_argument_is_named_with_the_closest_valid_one(backend: Backend) -> None:
    text = tool_error(call(backend, "generate_image", {"prompt": "a fox", "seeed": 7}))

    assert "'seeed'" in text and "did you mean 'seed'" in text and "prompt, model" in text


def test_a_wrong_type_is_answered_in_plain_words(backend: Backend) -> None:
    text = tool_error(
        call(backend, "generate_image", {"prompt": "a fox", "model": "sdxl-base", "width": "wide"})
    )

    assert "width must be a whole number" in text and "validation error" not in text.lower()


@pytest.mark.parametrize(
    ("tool", "raw"),
    [
        ("generate_image", '{"prompt": "a fox", "model": "sdxl-base", "guidance": NaN}'),
        ("generate_image", '{"prompt": "a fox", "model": "sdxl-base", "guidance": Infinity}'),
        ("wait_for_completion", '{"job_id": "3f2b9c1e-8a4d-4e6f-9b2a-1c3d5e7f9a0b", "timeout_seconds": NaN}'),
    ],
)
def test_non_finite_numbers_are_refused(backend: Backend, tool: str, raw: str) -> None:
    text = tool_error(call(backend, tool, raw))

    assert "not a finite number" in text


@pytest.mark.parametrize(
    ("tool", "arguments", "expected"),
    [
        ("list_jobs", {"created_after": "0001-01-01T00:00:00+14:00"}, "out of range"),
        ("list_jobs", {"created_before": "9999-12-31T23:59:59-14:00"}, "out of range"),
        ("list_generations", {"offset": 2**63}, "too deep"),
        ("get_usage", {"since": "0001-01-01T00:00:00+14:00"}, "out of range"),
        ("get_job_status", {"job_id": "x" * 900_000}, "malformed"),
    ],
)
def test_odd_but_valid_input_gets_an_actionable_tool_error(
    backend: Backend, tool: str, arguments: dict[str, Any], expected: str
) -> None:
    text = tool_error(call(backend, tool, arguments))

    assert expected in text
    assert len(text) < 1000  # what the caller sent is quoted, never echoed whole


def test_a_cursor_holding_an_impossible_time_is_refused(backend: Backend) -> None:
    import base64

    cursor = base64.urlsafe_b64encode(
        json.dumps({"v": 1, "t": "9999-12-31T23:59:59-14:00", "id": "x"}).encode()
    ).decode()

    text = tool_error(call(backend, "list_jobs", {"cursor": cursor}))

    assert "cursor is not valid" in text
