"""Fetching Client ID Metadata Documents over real HTTPS: what is fetched, and every way a hostile client
id URL is refused (no network beyond loopback is needed: refusals happen before any connection)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from imagegen.adapters.client_documents import HttpClientDocuments
from imagegen.domain.oauth import ClientDocumentUnavailable
from tests.support.client_documents import TEST_FETCH_TIMEOUT_SECONDS, DocumentHost, document_host


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DocumentHost]:
    with document_host(tmp_path_factory.mktemp("documents")) as running:
        yield running


@pytest.fixture
def documents(host: DocumentHost) -> HttpClientDocuments:
    """Configured as the servers under test are: this host trusted, everything else as in production."""
    return HttpClientDocuments(
        timeout_seconds=TEST_FETCH_TIMEOUT_SECONDS, private_hosts=[host.host], ca_file=host.ca_file
    )


async def refusal(documents: HttpClientDocuments, url: str) -> str:
    with pytest.raises(ClientDocumentUnavailable) as refused:
        await documents.fetch(url)
    return str(refused.value)


async def test_a_document_is_fetched_over_verified_tls_with_its_cache_lifetime(
    host: DocumentHost, documents: HttpClientDocuments
) -> None:
    url = host.client("/good.json", ["http://127.0.0.1:3000/cb"])

    fetched = await documents.fetch(url)

    assert fetched.body["client_id"] == url
    assert fetched.max_age_seconds == 60


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/slow.json", f"did not answer within {TEST_FETCH_TIMEOUT_SECONDS:g} s"),
        ("/huge.json", "larger than 5,120 bytes"),
        ("/endless.json", "larger than 5,120 bytes"),
        ("/redirect.json", "answered 302 (a redirect)"),
        ("/page.html", "not application/json"),
        ("/missing.json", "answered HTTP 404"),
    ],
)
async def test_a_bad_answer_is_refused_with_its_reason(
    host: DocumentHost, documents: HttpClientDocuments, path: str, reason: str
) -> None:
    assert reason in await refusal(documents, host.url(path))


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1:{port}/good.json",
        "https://[::ffff:127.0.0.1]:{port}/good.json",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.8/client.json",
    ],
)
async def test_private_addresses_are_refused_before_connecting(host: DocumentHost, url: str) -> None:
    strict = HttpClientDocuments(timeout_seconds=TEST_FETCH_TIMEOUT_SECONDS, ca_file=host.ca_file)

    assert "points at a private address" in await refusal(strict, url.format(port=host.port))


async def test_a_name_that_resolves_to_any_private_address_is_refused(host: DocumentHost) -> None:
    async def mixed(name: str, port: int) -> list[str]:
        return ["93.184.215.14", "10.1.2.3"]

    rebinding = HttpClientDocuments(timeout_seconds=TEST_FETCH_TIMEOUT_SECONDS, resolver=mixed)

    assert "private address (10.1.2.3)" in await refusal(rebinding, "https://docs.example/client.json")


async def test_the_connection_goes_to_the_address_that_was_checked(host: DocumentHost) -> None:
    asked: list[str] = []

    async def pinned(name: str, port: int) -> list[str]:
        asked.append(name)
        return ["127.0.0.1"]

    documents = HttpClientDocuments(
        timeout_seconds=TEST_FETCH_TIMEOUT_SECONDS,
        private_hosts=[host.host],
        ca_file=host.ca_file,
        resolver=pinned,
    )
    url = host.client("/pinned.json", ["http://127.0.0.1:3000/cb"])

    fetched = await documents.fetch(url)

    assert fetched.body["client_id"] == url
    assert asked == ["localhost"]


async def test_plain_http_and_untrusted_certificates_are_refused(host: DocumentHost) -> None:
    url = host.client("/tls.json", ["http://127.0.0.1:3000/cb"])
    untrusting = HttpClientDocuments(timeout_seconds=TEST_FETCH_TIMEOUT_SECONDS, private_hosts=[host.host])

    assert "not an https URL" in await refusal(untrusting, url.replace("https://", "http://"))
    assert "could not be fetched" in await refusal(untrusting, url)
