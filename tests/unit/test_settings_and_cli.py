"""Configuration as an operator writes it: list settings, key files, admin keys, and what reaches the logs."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from imagegen import __version__
from imagegen.cli import app
from imagegen.cli.console import local_keyring
from imagegen.domain.caller import Caller
from imagegen.settings import LocalSettings
from imagegen.web.client_config import INSPECTOR_VERSION
from imagegen.web.logging import StripQueryString

ALICE = "alice-token-0123456789"
ROOT = "root-token-01234567890"


@pytest.mark.parametrize("raw", ["a.lan:8787, b.lan:8787", '["a.lan:8787", "b.lan:8787"]'])
def test_list_settings_accept_commas_or_json(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("ALLOWED_HOSTS", raw)
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", "http://localhost:6274")

    settings = LocalSettings()

    assert settings.allowed_hosts == ["a.lan:8787", "b.lan:8787"]
    assert settings.cors_allowed_origins == ["http://localhost:6274"]


def test_keys_file_and_admin_client_are_honoured(tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"alice": ALICE, "root": ROOT}))
    settings = LocalSettings(auth_tokens_file=keys, admin_client="root", imagegen_data_dir=tmp_path)

    ring = local_keyring(settings, None)

    assert ring.authenticate(ALICE) == Caller(owner="alice")
    assert ring.authenticate(ROOT) == Caller(owner="root", is_admin=True)


def test_access_log_lines_lose_their_query_string() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "POST", "/mcp?access_token=secret-value", "1.1", 401),
        None,
    )

    StripQueryString().filter(record)

    assert "secret-value" not in record.getMessage()
    assert "POST /mcp HTTP/1.1" in record.getMessage()


@pytest.mark.parametrize("command", [["serve", "--help"], ["fake-workers-ai", "--help"], ["--help"]])
def test_help_lists_no_type_for_flags_and_keeps_bracketed_text(command: list[str]) -> None:
    result = CliRunner().invoke(app, command, env={"COLUMNS": "120"})

    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output
    if command[0] == "fake-workers-ai":
        assert "[fake:3030]" in result.output  # markup-looking text survives the help formatter


def test_version_prints_the_package_version() -> None:
    assert CliRunner().invoke(app, ["--version"]).output.strip() == __version__


def test_the_printed_inspector_is_the_version_the_tests_run() -> None:
    package = json.loads((Path(__file__).resolve().parents[2] / "package.json").read_text())

    assert package["devDependencies"]["@modelcontextprotocol/inspector"] == INSPECTOR_VERSION
