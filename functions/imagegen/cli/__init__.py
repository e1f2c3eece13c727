"""`imagegen`: run the MCP image server on this machine, emulate the AWS deployment, operate a deployment.

One module per command; each adds itself to `app` with `register(app)`.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer
from typer.core import TyperOption

from imagegen import __version__
from imagegen.cli import bootstrap, fake_workers_ai, logs, serve, stdio

_display_type = TyperOption.display_type_rich


def _no_type_for_flags(option: TyperOption, ctx: Any) -> str | None:
    """Typer's help lists a `<bool>` type beside every flag (--help, --moto), which takes no value."""
    return None if option.is_flag else _display_type(option, ctx)


TyperOption.display_type_rich = _no_type_for_flags  # type: ignore[method-assign,assignment]

app = typer.Typer(
    name="imagegen",
    help=(
        "A remote MCP server for AI image generation with Cloudflare Workers AI.\n\n"
        "`imagegen serve` runs everything on this machine: the MCP endpoint (/mcp, and /sse for legacy "
        "clients), a SQLite job store, a local image folder served at /images and an in-process worker. "
        "Without CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN it draws labelled preview images offline. "
        "`imagegen serve --backend aws` runs the deployed Lambda handlers behind an emulation of API "
        "Gateway, Lambda and SQS instead."
    ),
    no_args_is_help=True,
    add_completion=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool | None,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = None,
) -> None:
    """A remote MCP server for AI image generation."""


@app.command("version")
def version_command() -> None:
    """Print the version."""
    typer.echo(__version__)


for command in (serve, stdio, bootstrap, logs, fake_workers_ai):
    command.register(app)


def main() -> None:  # pragma: no cover - console entry point
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()
