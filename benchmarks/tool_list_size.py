"""Figure 9 — what the model reads: the size of the tool list (name, description, input schema).

Every host puts the tool list into the model's context on every turn, so its size is paid for in tokens
and in attention. Measured as the compact JSON a client receives for those three fields of every tool,
from the real server definition. Target: 8 KB or less.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path

from benchmarks.report import FigureResult, Measurement, Target
from imagegen.adapters.preview_provider import PreviewProvider
from imagegen.mcp.server import build_mcp_server
from imagegen.runtime.local import LocalRuntime
from imagegen.settings import LocalSettings

NAME = "tool_list_size"
TITLE = "Tool list the model reads"
TARGET_BYTES = 8 * 1024


def run(quick: bool) -> FigureResult:
    with tempfile.TemporaryDirectory(prefix="bench-tools-") as tmp:
        runtime = LocalRuntime(LocalSettings(imagegen_data_dir=Path(tmp)), PreviewProvider())
        tools = asyncio.run(build_mcp_server(runtime.context).list_tools())
        runtime.store.close()
    seen = [
        {"name": tool.name, "description": tool.description, "inputSchema": tool.input_schema}
        for tool in tools
    ]
    per_tool = {item["name"]: len(json.dumps(item, separators=(",", ":"))) for item in seen}
    size = len(json.dumps(seen, separators=(",", ":")))
    return FigureResult(
        name=NAME,
        title=TITLE,
        measured="compact JSON of name, description and inputSchema of every tool (what tools/list sends)",
        parameters={"tools": len(seen)},
        measurements=[
            Measurement(
                key="bytes",
                label=f"{len(seen)} tools: name, description, input schema",
                value=size,
                unit="bytes",
                target=Target("<=", TARGET_BYTES, unit="bytes"),
                details={"per_tool_bytes": per_tool},
            )
        ],
    )
