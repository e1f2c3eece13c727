"""Settings every test session shares."""

from __future__ import annotations

import pytest

from imagegen.emulator.moto_fidelity import make_moto_behave_like_aws


def pytest_configure(config: pytest.Config) -> None:
    # moto in this process (mock_aws and the threaded moto server) behaves as AWS does where tests can tell.
    make_moto_behave_like_aws()
