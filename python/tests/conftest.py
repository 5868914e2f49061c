"""Fixtures for tests against the real broker `npm test` starts (KAFKA_BOOTSTRAP).

A test module that uses the broker says so with ``pytestmark = pytest.mark.kafka``: `npm
test` reads that marker to decide whether the run needs a broker (and `--unit` leaves such
modules out). The ``brokers`` fixture fails a test that uses the broker without it, so a
missing marker cannot pass unnoticed.
"""

from __future__ import annotations

import os
import secrets
from typing import Callable, Iterator

import pytest

from sluice import KafkaAdmin


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "kafka: the test needs the run's Kafka broker (KAFKA_BOOTSTRAP)")
    config.addinivalue_line("markers", "postgres: the test needs the run's PostgreSQL (PG_URL)")


@pytest.fixture
def brokers(request: pytest.FixtureRequest) -> list[str]:
    if request.node.get_closest_marker("kafka") is None:
        raise RuntimeError(
            f"{request.node.nodeid} uses the broker: mark its module with pytestmark = pytest.mark.kafka"
        )
    value = os.environ.get("KAFKA_BOOTSTRAP")
    if not value:
        raise RuntimeError("KAFKA_BOOTSTRAP is not set: run the tests with `npm test`, which starts a broker")
    return value.split(",")


@pytest.fixture
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
