"""`imagegen stdio`: the same MCP server over stdin/stdout, for desktop clients that launch their servers.

Claude Desktop, Claude Code, Cursor and VS Code start a stdio server from a one-line command in their
config. Everything runs in that process: SQLite, the image folder and the worker, exactly as
`imagegen serve` does, without HTTP or a token (the client that started the process is its only user,
acting as the key named `default`). Images are files under the data folder: results link them as
`file://` URLs and name their path. stdout carries the protocol, so logs go to stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import anyio
import typer

from imagegen.adapters.workers_ai.settings import WorkersAISettings
from imagegen.domain.caller import DEFAULT_OWNER, Caller
from imagegen.domain.limits import LimitsConfig
from imagegen.mcp.context import current_caller
from imagegen.mcp.server import build_mcp_server
from imagegen.observability import configure_terminal_logging
from imagegen.runtime.local import LocalRuntime
from imagegen.runtime.providers import select_provider
from imagegen.settings import LocalSettings


def register(app: typer.Typer) -> None:
    app.command("stdio")(stdio_command)


def stdio_command(
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Data folder (env IMAGEGEN_DATA_DIR, default ./.data)")
    ] = None,
) -> None:
    """Serve the MCP tools over stdio, for a desktop client's config (no HTTP, no token)."""
    overrides = {"imagegen_data_dir": data_dir} if data_dir is not None else {}
    settings = LocalSettings(**overrides)  # type: ignore[arg-type]
    configure_terminal_logging(settings.log_level)  # to stderr: stdout is the protocol
    images = (settings.imagegen_data_dir / "images").resolve()
    settings = settings.model_copy(update={"public_base_url": images.as_uri()})
    anyio.run(serve_stdio, settings)


async def serve_stdio(settings: LocalSettings) -> None:
    runtime = LocalRuntime(settings, select_provider(WorkersAISettings(), settings.preview_latency_seconds))
    server = build_mcp_server(runtime.context)
    limits = LimitsConfig.parse(settings.client_limits).for_owner(DEFAULT_OWNER)
    # Every task the server starts inherits this: the process's one client.
    current_caller.set(Caller(owner=DEFAULT_OWNER, limits=limits))
    await runtime.start()
    try:
        await server.run_stdio_async()
    finally:
        await runtime.stop()
