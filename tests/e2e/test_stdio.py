"""`imagegen stdio` as desktop clients start it: the Python and TypeScript SDK stdio clients launch the
command, generate an image, get it as a file under the data folder, a resource link and a thumbnail."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp_types import ImageContent, ResourceLink

from imagegen.domain.image_format import detect_image_format
from tests.support.node_scripts import run_node_report

ROOT = Path(__file__).resolve().parents[2]
NODE = shutil.which("node")
TS_STDIO = ROOT / "tests" / "clients" / "ts_sdk_stdio.mjs"
COMMAND = [sys.executable, "-c", "from imagegen.cli import main; main()", "stdio"]


def environment(data_dir: Path) -> dict[str, str]:
    env = {**os.environ, "IMAGEGEN_DATA_DIR": str(data_dir), "PREVIEW_LATENCY_SECONDS": "0.05"}
    for name in ("CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_API_TOKEN", "AUTH_TOKEN", "AUTH_TOKENS"):
        env.pop(name, None)
    return env


async def test_the_python_stdio_client_generates_an_image_saved_under_the_data_folder(tmp_path: Path) -> None:
    server = StdioServerParameters(command=COMMAND[0], args=COMMAND[1:], env=environment(tmp_path))
    async with Client(stdio_client(server)) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        result = await client.call_tool("generate_image_and_wait", {"prompt": "a paper crane"})
        second = await client.call_tool("list_generations", {})

    assert "generate_image_and_wait" in tools
    outcome = result.structured_content or {}
    assert outcome["status"] == "completed"
    path = Path(url2pathname(urlsplit(outcome["image_url"]).path))
    assert outcome["image_url"].startswith("file://") and path.is_relative_to(tmp_path.resolve())
    assert detect_image_format(path.read_bytes()) is not None
    text = next(block.text for block in result.content if block.type == "text")
    assert str(path) in text
    assert [block for block in result.content if isinstance(block, ResourceLink)]
    assert [block for block in result.content if isinstance(block, ImageContent)]
    assert (second.structured_content or {})["total_count"] == 1


@pytest.mark.skipif(NODE is None, reason="needs node")
def test_the_typescript_stdio_client_generates_and_reads_the_image(tmp_path: Path) -> None:
    assert NODE is not None
    code, report = run_node_report(NODE, TS_STDIO, *COMMAND, env=environment(tmp_path))

    assert code == 0, report
    assert report["structured"]["status"] == "completed"
    assert report["resource"]["bytes"] > 1000 and report["resource"]["mimeType"].startswith("image/")
