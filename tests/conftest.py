"""Settings every test session shares."""

from __future__ import annotations

import pytest

from imagegen.emulator.moto_dynamodb import serialize_moto_dynamodb


def pytest_configure(config: pytest.Config) -> None:
    # moto in this process (mock_aws and the threaded moto server) isolates transactions as DynamoDB does.
    serialize_moto_dynamodb()
