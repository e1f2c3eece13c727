"""What the commands share: the consoles, the bearer token of `serve`, and the printed client configs."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console
from rich.panel import Panel

from imagegen.domain.limits import LimitsConfig
from imagegen.settings import LocalSettings
from imagegen.web.auth import KeyRing, generate_token
from imagegen.web.client_config import client_configs

console = Console(stderr=True)
out = Console()


def token_file(data_dir: Path) -> Path:
    return data_dir / "auth_token"


def resolve_token(settings: LocalSettings) -> tuple[str | None, bool]:
    """The single AUTH_TOKEN to use: configured, saved by an earlier run, or new. Returns (token, is_new)."""
    if settings.auth_token:
        return settings.auth_token.get_secret_value(), False
    if settings.auth_tokens or settings.auth_tokens_file:
        return None, False
    path = token_file(settings.imagegen_data_dir)
    if path.is_file():
        return path.read_text().strip(), False
    token = generate_token()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created owner-only from the first byte, never readable by others even for an instant.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(token + "\n")
    return token, True


def named_tokens(settings: LocalSettings) -> str | None:
    """AUTH_TOKENS as configured, from the variable or from AUTH_TOKENS_FILE."""
    if settings.auth_tokens_file is not None:
        return settings.auth_tokens_file.read_text()
    return settings.auth_tokens.get_secret_value() if settings.auth_tokens else None


def local_keyring(settings: LocalSettings, token: str | None) -> KeyRing:
    try:
        limits = LimitsConfig.parse(settings.client_limits)
        return KeyRing.from_settings(token, named_tokens(settings), settings.admin_client, limits)
    except ValueError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc


def print_client_configs(mcp_url: str, token: str | None, is_new: bool, data_dir: Path) -> None:
    shown = token or "<one of your AUTH_TOKENS>"
    if token and is_new:
        console.print(f"[bold]Generated a bearer token[/] (saved for next time in {token_file(data_dir)}):")
    console.print(Panel(f"MCP endpoint: [bold]{mcp_url}[/]\nToken: [bold]{shown}[/]", title="imagegen"))
    for client, snippet in client_configs(mcp_url, shown).items():
        console.print(f"[bold cyan]{client}[/]")
        # Unwrapped and unstyled: a command broken across lines by the terminal width cannot be pasted.
        console.print(snippet, soft_wrap=True, markup=False, highlight=False)
