"""The emulated API Gateway answers as API Gateway (HTTP API, payload 2.0) does, good news and bad."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from imagegen.emulator.api_gateway import CorsConfig, HttpApiGateway
from tests.support.emulated_aws import FunctionLogs
from tests.support.servers import free_port, serve_in_thread
from tests.support.toy_lambdas import toy_function

ROUTES = {
    "/echo": ("GET", "POST"),
    "/sleep": ("GET",),
    "/crash": ("GET",),
    "/plain": ("GET",),
    "/binary": ("GET",),
    "/not-a-response": ("GET",),
    "/items/{item_id}": ("DELETE",),
    "/files/{path+}": ("GET",),
}
ORIGIN = "http://localhost:6274"


@dataclass
class Gateway:
    url: str
    logs: FunctionLogs


@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    logs = FunctionLogs()
    function = toy_function("toy.http_handler", timeout_seconds=10, logs=logs)
    port = free_port()
    app = HttpApiGateway(
        ROUTES,
        function,
        domain_names=[f"127.0.0.1:{port}"],
        integration_timeout=1.0,
        cors=CorsConfig(allow_origins=(ORIGIN,), allow_headers=("authorization", "content-type")),
    )
    try:
        with serve_in_thread(app, port) as url:
            yield Gateway(url, logs)
    finally:
        function.close()


def test_the_event_follows_payload_format_2_0(gateway: Gateway) -> None:
    response = httpx.post(
        f"{gateway.url}/echo?a=1&a=2&b=3",
        content=b'{"x": 1}',
        headers=[
            ("X-Many", "one"),
            ("X-Many", "two"),
            ("Cookie", "c1=1; c2=2"),
            ("Content-Type", "application/json"),
        ],
    )

    event = response.json()
    assert response.status_code == 200
    assert event["version"] == "2.0" and event["rawPath"] == "/echo"
    assert event["headers"]["x-many"] == "one,two"
    assert event["cookies"] == ["c1=1", "c2=2"]
    assert event["queryStringParameters"] == {"a": "1,2", "b": "3"}
    assert event["body"] == '{"x": 1}' and event["isBase64Encoded"] is False
    assert event["requestContext"]["http"]["method"] == "POST"
    assert abs(event["requestContext"]["timeEpoch"] / 1000 - time.time()) < 10
    assert response.headers["apigw-requestid"] == event["requestContext"]["requestId"]


def test_a_binary_body_reaches_the_function_base64_encoded(gateway: Gateway) -> None:
    event = httpx.post(f"{gateway.url}/echo", content=b"\xff\xfe\x00").json()

    assert event["isBase64Encoded"] is True and event["body"] == "//4A"


def test_a_base64_answer_and_its_cookies_reach_the_client_as_bytes(gateway: Gateway) -> None:
    response = httpx.get(f"{gateway.url}/binary")

    assert response.content == b"\x89PNG\r\n\x1a\n"
    assert response.headers["content-type"] == "image/png"
    assert response.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2; Path=/"]


def test_an_answer_without_status_code_is_200_json(gateway: Gateway) -> None:
    response = httpx.get(f"{gateway.url}/plain")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"hello": "world"}


@pytest.mark.parametrize(("method", "path"), [("DELETE", "/items/grant_123"), ("GET", "/files/a/b/c.png")])
def test_a_route_with_a_path_variable_reaches_the_function(gateway: Gateway, method: str, path: str) -> None:
    response = httpx.request(method, gateway.url + path, timeout=30)

    assert response.status_code == 200
    assert response.json()["rawPath"] == path


@pytest.mark.parametrize(
    ("request_kwargs", "status", "message"),
    [
        ({"url": "/echo", "headers": {"host": "evil.example"}}, 403, "Forbidden"),
        ({"url": "/nowhere"}, 404, "Not Found"),
        ({"url": "/sleep", "method": "POST"}, 404, "Not Found"),
        ({"url": "/items/1/2", "method": "DELETE"}, 404, "Not Found"),
        ({"url": "/items/1", "method": "GET"}, 404, "Not Found"),
        ({"url": "/files", "method": "GET"}, 404, "Not Found"),
        ({"url": "/crash"}, 500, "Internal Server Error"),
        ({"url": "/not-a-response"}, 500, "Internal Server Error"),
        (
            {"url": "/echo", "method": "POST", "content": b"x" * (10 * 1024 * 1024 + 1)},
            413,
            "Request Entity Too Large",
        ),
    ],
)
def test_failures_get_api_gateways_own_answers(
    gateway: Gateway, request_kwargs: dict[str, object], status: int, message: str
) -> None:
    kwargs = dict(request_kwargs)
    method = str(kwargs.pop("method", "GET"))
    url = gateway.url + str(kwargs.pop("url"))

    response = httpx.request(method, url, timeout=30, **kwargs)  # type: ignore[arg-type]

    assert response.status_code == status
    assert response.json() == {"message": message}


def test_past_the_integration_timeout_the_client_gets_503_while_the_function_runs_on(
    gateway: Gateway,
) -> None:
    started = time.monotonic()
    response = httpx.get(f"{gateway.url}/sleep?seconds=2.5", timeout=30)
    answered = time.monotonic() - started

    assert response.status_code == 503
    assert response.json() == {"message": "Service Unavailable"}
    assert answered < 2.5
    # The invocation was not cut short: Lambda ends it only at the function's own timeout.
    deadline = time.monotonic() + 10
    while _longest_successful_invocation_ms(gateway.logs) < 2500 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _longest_successful_invocation_ms(gateway.logs) >= 2500, gateway.logs.text()


def test_a_cors_preflight_is_answered_for_a_configured_origin_only(gateway: Gateway) -> None:
    request = {"access-control-request-method": "POST"}
    allowed = httpx.options(f"{gateway.url}/echo", headers={**request, "origin": ORIGIN})
    other = httpx.options(f"{gateway.url}/echo", headers={**request, "origin": "http://evil.example"})

    assert allowed.status_code == 204 and allowed.headers["access-control-allow-origin"] == ORIGIN
    assert "access-control-allow-origin" not in other.headers


def test_an_allowed_origin_can_read_the_answer(gateway: Gateway) -> None:
    response = httpx.get(f"{gateway.url}/plain", headers={"origin": ORIGIN})

    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert json.loads(response.text) == {"hello": "world"}


def _longest_successful_invocation_ms(logs: FunctionLogs) -> float:
    reports = [
        line for _, line in list(logs.lines) if line.startswith("REPORT") and "Status: error" not in line
    ]
    return max((float(line.split("Duration: ")[1].split(" ms")[0]) for line in reports), default=0.0)
