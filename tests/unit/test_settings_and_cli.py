"""Configuration as an operator writes it: list settings, key files, admin keys, and what reaches the logs."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from imagegen.cli.console import local_keyring
from imagegen.domain.caller import Caller
from imagegen.settings import LocalSettings
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
