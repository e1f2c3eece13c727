"""The two backends every client is checked against: the local server, and the AWS path (the deployed
handlers behind the emulated API Gateway, Lambda and SQS, on moto's server)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from imagegen.adapters.aws.dynamodb_grants import DynamoDBGrantStore
from imagegen.domain.caller import DEFAULT_OWNER
from imagegen.ports import GrantStore
from imagegen.web.auth import KeyRing
from tests.support.client_documents import DocumentHost, document_host
from tests.support.emulated_aws import ADMIN_TOKEN, OTHER_TOKEN, EmulatedAws, emulated_aws
from tests.support.local_server import NO_LIMITS, TOKEN, LocalServer, connect, local_server
from tests.support.providers import ScriptedProvider
from tests.support.servers import free_port


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with local_server(tmp_path / "data") as running:
        yield running


@dataclass
class Backend:
    """One running server as a client sees it: a base URL and bearer tokens."""

    name: str
    url: str
    token: str
    # A port whose loopback names the server accepts as Host: for a proxy in front of it (conformance).
    proxy_port: int
    # Replace (None: delete) a stored object behind the server's back, as an operator or a fault would.
    tamper: Callable[[str, bytes | None], None]
    # Where the server keeps OAuth grants: tests write what no request can make (expired tokens).
    grants: GrantStore
    # Everything the OAuth store holds, as text: to show what it does not hold.
    oauth_records: Callable[[], str]
    # The HTTPS host of client metadata documents the server may fetch from loopback.
    documents: DocumentHost
    other_token: str = OTHER_TOKEN  # a second client's key, named "other"
    admin_token: str = ADMIN_TOKEN  # the admin key (ADMIN_CLIENT), named "admin"

    @property
    def mcp_url(self) -> str:
        return f"{self.url}/mcp"

    def client(
        self, token: str | None = None, mode: str = "legacy", **options: Any
    ) -> AbstractAsyncContextManager[Client]:
        return _client(self.mcp_url, token or self.token, mode, **options)


@asynccontextmanager
async def _client(url: str, token: str, mode: str, **options: Any) -> AsyncIterator[Client]:
    async with connect(url, token, mode=mode, **options) as client:
        yield client


def backend_keys() -> KeyRing:
    """The keys of the emulated stack: the default client, one named "other" and the admin key."""
    tokens = {DEFAULT_OWNER: TOKEN, "other": OTHER_TOKEN, "admin": ADMIN_TOKEN}
    return KeyRing.from_tokens(tokens, admin="admin", limits=NO_LIMITS)


@pytest.fixture(scope="session")
def client_documents(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DocumentHost]:
    """Client ID Metadata Documents over HTTPS on loopback, which both backends are told to trust."""
    with document_host(tmp_path_factory.mktemp("client-documents")) as host:
        yield host


@pytest.fixture(scope="session")
def aws_path(client_documents: DocumentHost) -> Iterator[tuple[EmulatedAws, int]]:
    """One emulated stack for the session: its warm environments serve every test, as on AWS."""
    proxy_port = free_port()
    extra = [f"127.0.0.1:{proxy_port}", f"localhost:{proxy_port}"]
    with emulated_aws(extra_domain_names=extra, extra_environment=client_documents.environment()) as running:
        yield running, proxy_port


@pytest.fixture(scope="session")
def local_backend(
    tmp_path_factory: pytest.TempPathFactory, client_documents: DocumentHost
) -> Iterator[tuple[LocalServer, int]]:
    proxy_port = free_port()
    hosts = [f"127.0.0.1:{proxy_port}", f"localhost:{proxy_port}"]
    with local_server(
        tmp_path_factory.mktemp("local-backend"),
        allowed_hosts=hosts,
        keyring=backend_keys(),
        **client_documents.settings(),
    ) as running:
        yield running, proxy_port


@pytest.fixture(params=["local", "aws"])
def backend(request: pytest.FixtureRequest, client_documents: DocumentHost) -> Backend:
    if request.param == "aws":
        aws, proxy_port = request.getfixturevalue("aws_path")
        return _aws_backend(aws, proxy_port, client_documents)
    local, proxy_port = request.getfixturevalue("local_backend")
    return _local_backend(local, proxy_port, client_documents)


@pytest.fixture(scope="session")
def idle_aws_path() -> Iterator[EmulatedAws]:
    """The AWS path with no worker running: jobs stay pending for as long as a test needs them to."""
    with emulated_aws(start_worker=False) as running:
        yield running


@pytest.fixture(scope="session")
def idle_local_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """The local server with a provider that never returns: jobs stay processing until cancelled."""
    stuck = ScriptedProvider()
    stuck.release.clear()
    with local_server(
        tmp_path_factory.mktemp("idle-backend"), provider=stuck, keyring=backend_keys()
    ) as running:
        yield running


@pytest.fixture(params=["local", "aws"])
def idle_backend(request: pytest.FixtureRequest, client_documents: DocumentHost) -> Backend:
    """A backend on which no job ever finishes by itself."""
    if request.param == "aws":
        return _aws_backend(request.getfixturevalue("idle_aws_path"), 0, client_documents)
    return _local_backend(request.getfixturevalue("idle_local_backend"), 0, client_documents)


def _aws_backend(aws: EmulatedAws, proxy_port: int, documents: DocumentHost) -> Backend:
    return Backend(
        name="aws",
        url=aws.url,
        token=aws.token,
        proxy_port=proxy_port,
        tamper=_bucket_tamper(aws),
        grants=DynamoDBGrantStore(aws.stack.config.names.oauth_table, aws.stack.dynamodb),
        oauth_records=_table_dump(aws),
        documents=documents,
    )


def _local_backend(local: LocalServer, proxy_port: int, documents: DocumentHost) -> Backend:
    return Backend(
        name="local",
        url=local.url,
        token=local.token,
        proxy_port=proxy_port,
        tamper=_folder_tamper(local),
        grants=local.runtime.grants,
        oauth_records=_database_dump(local),
        documents=documents,
    )


def _bucket_tamper(aws: EmulatedAws) -> Callable[[str, bytes | None], None]:
    bucket = aws.stack.config.names.bucket

    def tamper(key: str, data: bytes | None) -> None:
        if data is None:
            aws.stack.s3.delete_object(Bucket=bucket, Key=key)
        else:
            head = aws.stack.s3.head_object(Bucket=bucket, Key=key)
            aws.stack.s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType=head["ContentType"])

    return tamper


def _folder_tamper(local: LocalServer) -> Callable[[str, bytes | None], None]:
    root = local.settings.imagegen_data_dir / "images"

    def tamper(key: str, data: bytes | None) -> None:
        if data is None:
            (root / key).unlink()
        else:
            (root / key).write_bytes(data)

    return tamper


def _table_dump(aws: EmulatedAws) -> Callable[[], str]:
    def dump() -> str:
        # A Scan from the test, not the store: the store never scans.
        pages = aws.stack.dynamodb.get_paginator("scan").paginate(
            TableName=aws.stack.config.names.oauth_table
        )
        return json.dumps([item for page in pages for item in page["Items"]])

    return dump


def _database_dump(local: LocalServer) -> Callable[[], str]:
    def dump() -> str:
        with closing(sqlite3.connect(local.settings.imagegen_data_dir / "imagegen.db")) as db:
            return json.dumps(db.execute("SELECT * FROM oauth_records").fetchall())

    return dump


def structured(result: Any) -> dict[str, Any]:
    content: dict[str, Any] = result.structured_content or {}
    return content
