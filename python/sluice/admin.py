"""Small Kafka chores from Python, done by the engine's Kafka client: create a topic, write records."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from . import _engine


class KafkaAdmin:
    """For examples, tests and tools: the package has no Kafka client of its own."""

    def __init__(self, brokers: Iterable[str] | str) -> None:
        self.brokers = [b for b in brokers.split(",") if b] if isinstance(brokers, str) else list(brokers)

    def _call(self, method: str, **params: Any) -> Any:
        return _engine.get_engine().call(method, {"brokers": self.brokers, **params})

    def create_topic(self, topic: str, partitions: int = 1, config: Mapping[str, str] | None = None) -> None:
        self._call("admin.create_topic", topic=topic, partitions=partitions, config=dict(config) if config else None)

    def delete_topic(self, topic: str) -> None:
        self._call("admin.delete_topic", topic=topic)

    def produce(self, topic: str, records: Iterable[Mapping[str, Any] | tuple[Any, Any] | str | bytes]) -> int:
        """Writes records (dicts with value/key/partition, (key, value) pairs, or bare values); returns how many."""
        batch: list[dict[str, Any]] = []
        written = 0
        for record in records:
            if isinstance(record, Mapping):
                batch.append(dict(record))
            elif isinstance(record, tuple):
                batch.append({"key": record[0], "value": record[1]})
            else:
                batch.append({"value": record})
            if len(batch) >= 10_000:
                written += self._call("admin.produce", topic=topic, records=batch)
                batch = []
        if batch:
            written += self._call("admin.produce", topic=topic, records=batch)
        return written

    def end_offsets(self, topic: str) -> dict[int, int]:
        """The log end offset of each partition."""
        return {int(p): int(o) for p, o in self._call("admin.end_offsets", topic=topic).items()}
