from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.local_server import LocalServer, local_server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with local_server(tmp_path / "data") as running:
        yield running
