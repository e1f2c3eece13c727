"""The AWS path on this machine for tests: the emulated stack (API Gateway + Lambda + SQS) on moto's server.

Everything between a client and moto is the deployed code: HTTP -> the emulated API Gateway -> the real
`mcp_api` handler in its own Lambda execution environment -> DynamoDB/SQS on the moto server; the SQS
event source -> the real `image_worker` handler in its own environment -> the preview provider (no
Cloudflare credentials) -> the bucket on the moto server, whose URL serves the image.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from moto.server import ThreadedMotoServer

from imagegen.adapters.aws import schema
from imagegen.emulator.moto_fidelity import make_moto_behave_like_aws
from imagegen.emulator.stack import EmulatedStack, StackConfig, StackNames
from tests.support.servers import free_port, serve_in_thread

TOKEN = "aws-path-token-0123456789abcdef"
NO_LIMITS_JSON = json.dumps({"*": {"jobs_in_flight": None, "images_per_day": None, "daily_spend_usd": None}})
OTHER_TOKEN = "aws-path-other-0123456789abcdef"
# The key named in ADMIN_CLIENT: it sees every client's jobs and OAuth grants.
ADMIN_TOKEN = "aws-path-admin-0123456789abcdef"


@dataclass
class FunctionLogs:
    """Every line the emulated functions printed, by environment label (e.g. `mcp_api#2`)."""

    lines: list[tuple[str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, source: str, line: str) -> None:
        with self._lock:
            self.lines.append((source, line))

    def text(self) -> str:
        with self._lock:
            return "\n".join(f"[{source}] {line}" for source, line in self.lines)


@dataclass
class EmulatedAws:
    url: str
    token: str
    stack: EmulatedStack
    endpoint_url: str
    logs: FunctionLogs

    @property
    def mcp_url(self) -> str:
        return f"{self.url}/mcp"


@contextmanager
def moto_server() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access line per AWS call otherwise
    make_moto_behave_like_aws()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@contextmanager
def emulated_aws(
    *,
    endpoint_url: str | None = None,
    start_worker: bool = True,
    extra_domain_names: list[str] | None = None,
    **overrides: Any,
) -> Iterator[EmulatedAws]:
    """The emulated stack on a free port, on `endpoint_url` or on a moto server of its own."""
    if endpoint_url is None:
        with (
            moto_server() as endpoint,
            emulated_aws(
                endpoint_url=endpoint,
                start_worker=start_worker,
                extra_domain_names=extra_domain_names,
                **overrides,
            ) as running,
        ):
            yield running
        return
    port = free_port()
    logs = FunctionLogs()
    extra = {
        "PREVIEW_LATENCY_SECONDS": "0.05",
        # No limits unless a test is about them: the session-wide stack would run into a day's quota.
        "CLIENT_LIMITS": NO_LIMITS_JSON,
        **overrides.pop("extra_environment", {}),
    }
    config = StackConfig(
        endpoint_url=endpoint_url,
        domain_names=[f"127.0.0.1:{port}", f"localhost:{port}", *(extra_domain_names or [])],
        credentials={
            schema.SECRET_AUTH_TOKEN: TOKEN,
            schema.SECRET_AUTH_TOKENS: json.dumps({"other": OTHER_TOKEN, "admin": ADMIN_TOKEN}),
            schema.SECRET_ADMIN_CLIENT: "admin",
        },
        # Names of their own, so several stacks can share one moto server.
        names=StackNames.for_prefix(f"t{uuid.uuid4().hex[:8]}"),
        extra_environment=extra,
        **overrides,
    )
    stack = EmulatedStack(config, log=logs)
    if start_worker:
        stack.start()
    try:
        with serve_in_thread(stack.gateway, port) as url:
            yield EmulatedAws(url=url, token=TOKEN, stack=stack, endpoint_url=endpoint_url, logs=logs)
    finally:
        stack.close()
