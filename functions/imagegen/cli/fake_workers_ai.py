"""`imagegen fake-workers-ai`: a local fake of the Cloudflare Workers AI REST API."""

from __future__ import annotations

from typing import Annotated

import typer

from imagegen.fakes.workers_ai_server import DEFAULT_PORT, run_fake_workers_ai


def register(app: typer.Typer) -> None:
    app.command("fake-workers-ai")(fake_workers_ai_command)


def fake_workers_ai_command(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = DEFAULT_PORT,
    latency: Annotated[float, typer.Option(help="Seconds to wait before every answer.", min=0)] = 0.0,
    token: Annotated[
        str | None,
        typer.Option(
            help="Require 'Authorization: Bearer TOKEN' (omit to accept any).",
            envvar="FAKE_WORKERS_AI_TOKEN",
        ),
    ] = None,
) -> None:
    """Run a local fake of the Cloudflare Workers AI REST API (no account, no cost).

    Point the server at it with WORKERS_AI_BASE_URL=http://HOST:PORT/client/v4 and any
    CLOUDFLARE_ACCOUNT_ID / CLOUDFLARE_API_TOKEN. Prompt markers such as \\[fake:3030] or
    \\[fake:429-then-ok] make it answer with Cloudflare errors; see imagegen.fakes.workers_ai_server.
    """
    typer.echo(f"Fake Workers AI on http://{host}:{port}/client/v4 (latency {latency} s)")
    run_fake_workers_ai(host, port, latency_seconds=latency, token=token)
