"""Generated arguments thrown at every tool, on both backends (SQLite and DynamoDB): whatever comes in,
the answer is a result or an actionable error, never a 5xx, a crash, or a bare "Error executing tool".

The arguments are built from each tool's own input schema (right names, wrong or extreme values, and
names that do not exist), so most of them are what a confused model might really send.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.conftest import Backend

EXAMPLES_PER_TOOL = 60
SLOW_TOOLS = {"generate_image_and_wait", "wait_for_completion"}  # they may wait for real
TRIED: dict[str, int] = {}

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=60),
    st.sampled_from(
        ["", " ", "flux-schnell", "sdxl-base", "2026-11-25T10:00:00Z", "0001-01-01T00:00:00+14:00"]
    ),
    st.uuids().map(str),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=2),
    max_leaves=5,
)


@pytest.fixture
def http(backend: Backend) -> Iterator[httpx.Client]:
    headers = {
        "authorization": f"Bearer {backend.token}",
        "accept": "application/json, text/event-stream",
        "content-type": "application/json",
        "mcp-protocol-version": "2025-11-25",
    }
    with httpx.Client(headers=headers, timeout=60) as client:
        yield client


def _tool_schemas(http: httpx.Client, backend: Backend) -> dict[str, dict[str, Any]]:
    answer = http.post(backend.mcp_url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    return {tool["name"]: tool["inputSchema"] for tool in _message(answer)["result"]["tools"]}


def _message(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code < 500, response.text[:500]
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        data = [line[5:].strip() for line in response.text.splitlines() if line.startswith("data:")]
        return dict(json.loads(data[-1]))
    return dict(response.json())


def _arguments(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    names = list(schema.get("properties", {}))
    known = st.dictionaries(st.sampled_from(names), VALUES, max_size=len(names)) if names else st.just({})
    unknown = st.dictionaries(st.text(min_size=1, max_size=12), VALUES, max_size=2)
    return st.tuples(known, unknown, st.booleans()).map(
        lambda parts: {**parts[0], **(parts[1] if parts[2] else {})}
    )


@pytest.mark.slow
def test_no_generated_argument_crashes_a_tool(backend: Backend, http: httpx.Client) -> None:
    schemas = _tool_schemas(http, backend)
    assert len(schemas) == 10
    for name, schema in schemas.items():
        _throw_arguments_at(http, backend, name, schema)
    print(f"generated calls on {backend.name}: {TRIED[backend.name]}")


def _throw_arguments_at(http: httpx.Client, backend: Backend, name: str, schema: dict[str, Any]) -> None:
    @settings(
        max_examples=EXAMPLES_PER_TOOL // 3 if name in SLOW_TOOLS else EXAMPLES_PER_TOOL,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(arguments=_arguments(schema))
    def one_call(arguments: dict[str, Any]) -> None:
        if name in SLOW_TOOLS and isinstance(arguments.get("timeout_seconds"), int | float):
            arguments["timeout_seconds"] = 0.5  # the answer, not the wait, is under test
        request = {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {"name": name, "arguments": arguments},
        }
        answer = _message(http.post(backend.mcp_url, content=json.dumps(request, allow_nan=True).encode()))
        TRIED[backend.name] = TRIED.get(backend.name, 0) + 1
        if "error" in answer:
            # Only the envelope may be refused, never an argument (those are tool errors).
            assert answer["error"]["code"] in (-32600, -32602), answer
            return
        result = answer["result"]
        if result.get("isError"):
            text = result["content"][0]["text"]
            assert text.strip() != f"Error executing tool {name}", arguments
            assert "Traceback" not in text and "validation error for" not in text, text
            assert len(text) < 2000, text[:200]
        else:
            assert result.get("structuredContent") is not None, result

    one_call()
