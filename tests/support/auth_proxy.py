"""A reverse proxy that adds a bearer token: for third-party clients that cannot send one (conformance)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from tests.support.servers import serve_in_thread

_HOP_BY_HOP = {"content-length", "transfer-encoding", "connection"}


def auth_proxy_app(upstream: str, token: str) -> Starlette:
    client = httpx.AsyncClient(timeout=60)

    async def forward(request: Request) -> StreamingResponse:
        # Host and Origin pass through unchanged, so the upstream's DNS-rebinding checks still apply.
        headers = {k: v for k, v in request.headers.items() if k not in _HOP_BY_HOP}
        headers["authorization"] = f"Bearer {token}"
        url = f"{upstream}{request.url.path}" + (f"?{request.url.query}" if request.url.query else "")
        sent = client.build_request(request.method, url, headers=headers, content=await request.body())
        response = await client.send(sent, stream=True)
        return StreamingResponse(
            response.aiter_raw(),
            status_code=response.status_code,
            headers={k: v for k, v in response.headers.items() if k not in _HOP_BY_HOP},
            background=BackgroundTask(response.aclose),
        )

    return Starlette(routes=[Route("/{path:path}", forward, methods=["GET", "POST", "DELETE"])])


@contextmanager
def auth_proxy(upstream: str, token: str, port: int) -> Iterator[str]:
    with serve_in_thread(auth_proxy_app(upstream, token), port) as url:
        yield url
