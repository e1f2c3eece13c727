"""Shared by the integration suites that talk to the fake Workers AI server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.fake_workers_ai import FakeWorkersAI, fake_workers_ai


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeWorkersAI]:
    """The fake Workers AI REST API on a loopback port, one per test module."""
    with fake_workers_ai() as server:
        yield server
