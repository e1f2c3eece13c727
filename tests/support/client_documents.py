"""An HTTPS host for Client ID Metadata Documents, on loopback, with a certificate from the tests' own CA.

Servers under test are told to trust that CA and that this one host may be on a private address
(`CLIENT_METADATA_CA_FILE`, `CLIENT_METADATA_PRIVATE_HOSTS`); everything else about the fetch is what
production does. Besides the documents tests publish, it serves the bad answers a hostile client id can
point at: one too slow, one too large (declared, or streamed without end), a redirect, one not JSON.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.support.servers import free_port, serve_in_thread
from tests.support.tls import make_certificates

# Servers under test wait this long for a document: ample for a loopback TLS handshake on a busy machine,
# so only the document that never comes runs into it.
TEST_FETCH_TIMEOUT_SECONDS = 2.0
HUGE_BYTES = 200_000


@dataclass
class DocumentHost:
    origin: str  # https://localhost:PORT
    host: str  # localhost:PORT, the name servers are told may be on a private address
    port: int
    ca_file: Path
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    # /slow.json answers only once this is set (when the host stops), however long a fetch waits.
    released: threading.Event = field(default_factory=threading.Event)

    def publish(self, path: str, document: dict[str, Any]) -> str:
        self.documents[path] = document
        return f"{self.origin}{path}"

    def client(self, path: str, redirect_uris: list[str], name: str = "Document client", **extra: Any) -> str:
        """Publish a well-formed client metadata document at `path`; returns its URL, the client id."""
        url = f"{self.origin}{path}"
        self.documents[path] = {
            "client_id": url,
            "client_name": name,
            "redirect_uris": redirect_uris,
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
            **extra,
        }
        return url

    def url(self, path: str) -> str:
        return f"{self.origin}{path}"

    def environment(self) -> dict[str, str]:
        """What a server needs to fetch from this host (and only from it among private addresses)."""
        return {
            "CLIENT_METADATA_CA_FILE": str(self.ca_file),
            "CLIENT_METADATA_PRIVATE_HOSTS": self.host,
            "CLIENT_METADATA_TIMEOUT_SECONDS": str(TEST_FETCH_TIMEOUT_SECONDS),
        }

    def settings(self) -> dict[str, Any]:
        """The same, as LocalSettings fields."""
        return {
            "client_metadata_ca_file": self.ca_file,
            "client_metadata_private_hosts": [self.host],
            "client_metadata_timeout_seconds": TEST_FETCH_TIMEOUT_SECONDS,
        }


def _app(host: DocumentHost) -> Starlette:
    async def answer(request: Request) -> Response:
        path = request.url.path
        if path == "/slow.json":
            while not host.released.is_set():
                await asyncio.sleep(0.05)
            return JSONResponse({"client_id": host.url(path)})
        if path == "/huge.json":
            return JSONResponse({"client_id": host.url(path), "padding": "x" * HUGE_BYTES})
        if path == "/endless.json":
            # No Content-Length: only reading stops it.
            chunks = (b" " * 1024 for _ in range(HUGE_BYTES // 1024))
            return StreamingResponse(chunks, media_type="application/json")
        if path == "/redirect.json":
            return RedirectResponse(host.url("/elsewhere.json"), status_code=302)
        if path == "/page.html":
            return PlainTextResponse("<html>not a document</html>", media_type="text/html")
        document = host.documents.get(path)
        if document is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        return JSONResponse(document, headers={"cache-control": "max-age=60"})

    return Starlette(routes=[Route("/{path:path}", answer, methods=["GET"])])


@contextmanager
def document_host(folder: Path) -> Iterator[DocumentHost]:
    certificates = make_certificates(folder)
    port = free_port()
    host = DocumentHost(
        origin=f"https://localhost:{port}", host=f"localhost:{port}", port=port, ca_file=certificates.ca_file
    )
    with serve_in_thread(
        _app(host),
        port,
        ssl_certfile=str(certificates.cert_file),
        ssl_keyfile=str(certificates.key_file),
    ):
        try:
            yield host
        finally:
            host.released.set()
