"""Fixtures for tests against the real broker `npm test` starts (KAFKA_BOOTSTRAP)."""

from __future__ import annotations

import os
import secrets
from typing import Callable, Iterator

import pytest

from sluice import KafkaAdmin


@pytest.fixture(scope="session")
def brokers() -> list[str]:
    value = os.environ.get("KAFKA_BOOTSTRAP")
    if not value:
        raise RuntimeError("KAFKA_BOOTSTRAP is not set: run the tests with `npm test`, which starts a broker")
    return value.split(",")


@pytest.fixture(scope="session")
def admin(brokers: list[str]) -> KafkaAdmin:
    return KafkaAdmin(brokers)


@pytest.fixture
def new_topic(admin: KafkaAdmin) -> Iterator[Callable[..., str]]:
    """Creates randomly named topics, deleted when the test ends."""
    created: list[str] = []

    def create(partitions: int = 1, prefix: str = "py") -> str:
        name = f"{prefix}-{secrets.token_hex(6)}"
        admin.create_topic(name, partitions=partitions)
        created.append(name)
        return name

    yield create
    for name in created:
        try:
            admin.delete_topic(name)
        except Exception:  # noqa: BLE001 - cleanup only
            pass
