"""A complete JSON answer sent straight from ASGI middleware, before any application code runs."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from starlette.types import Send


async def send_json(send: Send, status: int, document: Any, headers: Iterable[tuple[str, str]] = ()) -> None:
    body = json.dumps(document).encode()
    raw = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]
    raw += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
