"""`imagegen bootstrap-aws` + `serve --backend aws` against a moto server, driven by the real `mcp` client.

Nothing is faked between the client and moto: HTTP -> API Gateway v2 event -> the real mcp_api handler ->
DynamoDB/SQS on the moto server; the SQS poller -> the real image_worker handler -> the preview provider
(no Cloudflare credentials) -> the bucket on the moto server, whose URL serves the image back.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
import typer
from moto.server import ThreadedMotoServer
from typer.testing import CliRunner

from imagegen.adapters.aws import schema
from imagegen.domain.image_format import detect_image_format
from imagegen.runtime import aws_cli
from imagegen.settings import LocalSettings
from tests.integration.aws.conftest import reset_handler_caches
from tests.support.local_server import connect
from tests.support.servers import free_port, serve_in_thread

TOKEN = "serve-aws-token-0123456789"


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    # serve's environment preparation writes os.environ directly, as a CLI may: restore it afterwards.
    monkeypatch.setattr(os, "environ", os.environ.copy())
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    for name in (
        schema.ENV_SECRET_ARN,
        schema.ENV_QUEUE_URL,
        schema.ENV_R2_ACCOUNT_ID,
        "MOTO_S3_CUSTOM_ENDPOINTS",
    ):
        monkeypatch.delenv(name, raising=False)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    aws_cli.register(app)
    return app


def test_bootstrap_then_generate_wait_and_fetch_the_image(
    moto_server: str, cli: typer.Typer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given a bootstrapped moto server
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    result = CliRunner().invoke(cli, ["bootstrap-aws", "--region", "eu-west-1"])
    assert result.exit_code == 0, result.output
    exports = dict(re.findall(r"^export (\w+)=(\S+)$", result.stdout, re.MULTILINE))
    assert exports[schema.ENV_JOBS_TABLE] == "imagegen-jobs"
    for name, value in exports.items():
        monkeypatch.setenv(name, value)

    # And `serve --backend aws` running the real handlers behind a local HTTP server and SQS poller
    port = free_port()
    settings = LocalSettings(host="127.0.0.1", port=port, imagegen_data_dir=tmp_path)
    monkeypatch.setenv(schema.SECRET_AUTH_TOKEN, TOKEN)
    monkeypatch.setenv("PREVIEW_LATENCY_SECONDS", "0")
    aws_cli.prepare_environment(settings)
    reset_handler_caches()
    local = aws_cli.build_local_aws(settings)
    local.poller.start()
    try:
        with serve_in_thread(local.api, port):
            image_url = _generate_and_wait(local.mcp_url)
    finally:
        local.poller.stop()
        reset_handler_caches()

    # Then the image URL serves the image from the bucket
    assert image_url.startswith(f"{moto_server}/imagegen-images/images/")
    image = httpx2.get(image_url)
    assert image.status_code == 200
    assert detect_image_format(image.content) is not None


def _generate_and_wait(mcp_url: str) -> str:
    import asyncio

    async def run() -> str:
        async with connect(mcp_url, TOKEN) as client:
            tools = await client.list_tools()
            assert "generate_image" in {tool.name for tool in tools.tools}
            generated = await client.call_tool("generate_image", {"prompt": "a paper boat on a pond"})
            assert not generated.is_error, generated
            job_id = (generated.structured_content or {})["job_id"]
            waited = await client.call_tool("wait_for_completion", {"job_id": job_id, "timeout_seconds": 20})
            outcome = waited.structured_content or {}
            assert outcome["done"] is True, outcome
            assert outcome["jobs"][0]["provider"] == "preview"
            return str(outcome["image_url"])

    return asyncio.run(run())
