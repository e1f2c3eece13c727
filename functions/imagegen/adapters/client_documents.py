"""Client ID Metadata Documents fetched from the internet without opening a way into the network behind
the server (SSRF) or a way to stall it.

A client id URL is chosen by whoever starts an authorization, so every fetch is hostile until shown
otherwise: https only; the host is resolved once, every address it resolves to must be public (loopback,
private, link-local (the cloud metadata service), shared and reserved ranges are refused), and the
connection goes to the address that was checked, with TLS verified for the name, so a DNS answer that
changes between the check and the connection (DNS rebinding) cannot point the fetch elsewhere. No
redirects are followed. The whole fetch has one time budget, and the body is read up to a size cap and
no further, so a slow or endless answer costs at most that.

`private_hosts` exempts named hosts from the address rule (an internal client registry, a test host);
`ca_file` adds certificates to trust for them.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import re
import socket
import ssl
from collections.abc import Awaitable, Callable, Collection
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import certifi
import httpx

from imagegen.domain.oauth import ClientDocumentUnavailable
from imagegen.ports import ClientDocument

DEFAULT_TIMEOUT_SECONDS = 5.0
# draft-ietf-oauth-client-id-metadata-document suggests 5 KB; a real document is well under 1 KB.
MAX_DOCUMENT_BYTES = 5 * 1024

Resolver = Callable[[str, int], Awaitable[list[str]]]
_MAX_AGE = re.compile(r"max-age\s*=\s*(\d+)")


async def resolve(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for `host`."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class HttpClientDocuments:
    """The ClientDocumentSource port over HTTPS."""

    def __init__(
        self,
        *,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        max_bytes: int = MAX_DOCUMENT_BYTES,
        private_hosts: Collection[str] = (),
        ca_file: Path | None = None,
        resolver: Resolver = resolve,
    ) -> None:
        self._timeout = timeout_seconds
        self._max_bytes = max_bytes
        self._private_hosts = {host.lower() for host in private_hosts}
        self._resolve = resolver
        self._tls = ssl.create_default_context(cafile=certifi.where())
        if ca_file is not None:
            self._tls.load_verify_locations(cafile=str(ca_file))

    async def fetch(self, url: str) -> ClientDocument:
        try:
            async with asyncio.timeout(self._timeout):
                return await self._fetch(url)
        except TimeoutError:
            raise ClientDocumentUnavailable(f"did not answer within {self._timeout:g} s.") from None
        except httpx.HTTPError as exc:
            raise ClientDocumentUnavailable(f"could not be fetched: {type(exc).__name__}: {exc}.") from None

    async def _fetch(self, url: str) -> ClientDocument:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise ClientDocumentUnavailable("is not an https URL.")
        host, port = parts.hostname, parts.port or 443
        address = await self._checked_address(host, port)
        literal = f"[{address}]" if ":" in address else address
        target = urlunsplit(("https", f"{literal}:{port}", parts.path, parts.query, ""))
        named = f"[{host}]" if ":" in host else host
        headers = {
            "Host": named if port == 443 else f"{named}:{port}",
            "Accept": "application/json",
            "User-Agent": "imagegen-oauth (client metadata)",
        }
        async with httpx.AsyncClient(verify=self._tls, follow_redirects=False, trust_env=False) as http:
            request = http.build_request("GET", target, headers=headers, extensions={"sni_hostname": host})
            response = await http.send(request, stream=True)
            try:
                body = await self._read(response)
            finally:
                await response.aclose()
        try:
            document = json.loads(body)
        except ValueError:
            raise ClientDocumentUnavailable("is not JSON.") from None
        if not isinstance(document, dict):
            raise ClientDocumentUnavailable("is not a JSON object.")
        return ClientDocument(body=document, max_age_seconds=_max_age(response.headers.get("cache-control")))

    async def _checked_address(self, host: str, port: int) -> str:
        try:
            addresses = [str(ipaddress.ip_address(host))]
        except ValueError:
            try:
                addresses = await self._resolve(host, port)
            except OSError:
                raise ClientDocumentUnavailable(f"names a host ({host}) that does not resolve.") from None
        if not addresses:
            raise ClientDocumentUnavailable(f"names a host ({host}) that does not resolve.")
        trusted = host.lower() in self._private_hosts or f"{host.lower()}:{port}" in self._private_hosts
        private = [address for address in addresses if not is_public_address(address)]
        if private and not trusted:
            raise ClientDocumentUnavailable(
                f"points at a private address ({private[0]}); only documents on public addresses are fetched."
            )
        # Lambda functions outside a VPC reach the internet over IPv4 only.
        return sorted(addresses, key=lambda address: ":" in address)[0]

    async def _read(self, response: httpx.Response) -> bytes:
        if response.is_redirect:
            raise ClientDocumentUnavailable(
                f"answered {response.status_code} (a redirect); the document must be served at its own URL."
            )
        if response.status_code != 200:
            raise ClientDocumentUnavailable(f"answered HTTP {response.status_code}.")
        content_type = response.headers.get("content-type", "")
        if "json" not in content_type.lower():
            raise ClientDocumentUnavailable(
                f"is served as {content_type or 'no type'}, not application/json."
            )
        too_large = ClientDocumentUnavailable(f"is larger than {self._max_bytes:,} bytes.")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_bytes:
            raise too_large
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body.extend(chunk)
            if len(body) > self._max_bytes:
                raise too_large
        return bytes(body)


def _max_age(cache_control: str | None) -> int | None:
    """How long the document may be cached, from its Cache-Control header (None: not said)."""
    if not cache_control:
        return None
    lowered = cache_control.lower()
    if "no-store" in lowered or "no-cache" in lowered:
        return 0
    found = _MAX_AGE.search(lowered)
    return int(found.group(1)) if found else None
