"""`imagegen`: run the MCP image server locally and operate a deployment."""

from __future__ import annotations

import logging
import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.panel import Panel

from imagegen import __version__
from imagegen.fakes.cli import register as register_fakes
from imagegen.runtime.aws_cli import register as register_aws
from imagegen.runtime.providers import select_provider
from imagegen.settings import LocalSettings, WorkersAISettings
from imagegen.web.auth import KeyRing, generate_token
from imagegen.web.client_config import client_configs
from imagegen.web.logging import uvicorn_log_config

app = typer.Typer(
    name="imagegen",
    help=(
        "A remote MCP server for AI image generation with Cloudflare Workers AI.\n\n"
        "`imagegen serve` runs everything on this machine: the MCP endpoint (/mcp, and /sse for legacy "
        "clients), a SQLite job store, a local image folder served at /images and an in-process worker. "
        "Without CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN it draws labelled preview images offline."
    ),
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True)
register_fakes(app)
register_aws(app)


class Backend(StrEnum):
    LOCAL = "local"
    AWS = "aws"


def _token_file(data_dir: Path) -> Path:
    return data_dir / "auth_token"


def resolve_token(settings: LocalSettings) -> tuple[str | None, bool]:
    """The single AUTH_TOKEN to use: configured, saved by an earlier run, or new. Returns (token, is_new)."""
    if settings.auth_token:
        return settings.auth_token.get_secret_value(), False
    if settings.auth_tokens or settings.auth_tokens_file:
        return None, False
    path = _token_file(settings.imagegen_data_dir)
    if path.is_file():
        return path.read_text().strip(), False
    token = generate_token()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created owner-only from the first byte, never readable by others even for an instant.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(token + "\n")
    return token, True


def keyring_from(settings: LocalSettings, token: str | None) -> KeyRing:
    named = settings.auth_tokens.get_secret_value() if settings.auth_tokens else None
    if settings.auth_tokens_file is not None:
        named = settings.auth_tokens_file.read_text()
    try:
        return KeyRing.from_settings(token, named, settings.admin_client)
    except ValueError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc


def print_client_configs(mcp_url: str, token: str | None, is_new: bool, data_dir: Path) -> None:
    shown = token or "<one of your AUTH_TOKENS>"
    if token and is_new:
        console.print(f"[bold]Generated a bearer token[/] (saved for next time in {_token_file(data_dir)}):")
    console.print(Panel(f"MCP endpoint: [bold]{mcp_url}[/]\nToken: [bold]{shown}[/]", title="imagegen"))
    for client, snippet in client_configs(mcp_url, shown).items():
        console.print(f"[bold cyan]{client}[/]")
        # Unwrapped and unstyled: a command broken across lines by the terminal width cannot be pasted.
        console.print(snippet, soft_wrap=True, markup=False, highlight=False)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (env HOST, default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (env PORT, default 8787)")] = None,
    backend: Annotated[
        Backend,
        typer.Option(help="local: SQLite + in-process worker. aws: DynamoDB/SQS/S3 at AWS_ENDPOINT_URL"),
    ] = Backend.LOCAL,
    data_dir: Annotated[
        Path | None, typer.Option(help="Data folder (env IMAGEGEN_DATA_DIR, default ./.data)")
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option(help="Worker concurrency (env WORKER_CONCURRENCY)")
    ] = None,
) -> None:
    """Start the MCP server on this machine and print ready-to-paste client configs."""
    overrides = {
        key: value
        for key, value in {
            "host": host,
            "port": port,
            "imagegen_data_dir": data_dir,
            "worker_concurrency": concurrency,
        }.items()
        if value is not None
    }
    settings = LocalSettings(**overrides)  # type: ignore[arg-type]
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if backend is Backend.AWS:
        _serve_aws(settings)
        return
    _serve_local(settings)


def _serve_local(settings: LocalSettings) -> None:
    import uvicorn

    from imagegen.runtime.local import LocalRuntime
    from imagegen.web.local_app import MCP_PATH, create_local_app

    token, is_new = resolve_token(settings)
    keyring = keyring_from(settings, token)
    if settings.host in ("0.0.0.0", "::") and not settings.allowed_hosts:
        console.print(
            "[yellow]warning:[/] bound to every interface but ALLOWED_HOSTS is empty: requests by any name "
            "other than localhost get 421. Set ALLOWED_HOSTS=name:port[,...] and PUBLIC_BASE_URL."
        )
    provider = select_provider(WorkersAISettings(), settings.preview_latency_seconds)
    runtime = LocalRuntime(settings, provider)
    print_client_configs(settings.base_url + MCP_PATH, token, is_new, settings.imagegen_data_dir)
    console.print(f"Provider: [bold]{provider.name}[/]   data: {settings.imagegen_data_dir.resolve()}")
    uvicorn.run(
        create_local_app(runtime, keyring),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        log_config=uvicorn_log_config(),
        server_header=False,
    )


def _serve_aws(settings: LocalSettings) -> None:
    from imagegen.runtime.aws_cli import serve_aws

    serve_aws(settings)


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


def main() -> None:  # pragma: no cover - console entry point
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()
