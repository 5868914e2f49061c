"""What a Kafka record and an offset range look like in Python."""

from __future__ import annotations

from typing import Any, NamedTuple, Sequence


class KafkaRecord(NamedTuple):
    """One Kafka record. ``key`` and ``value`` are bytes unless a deserializer was chosen."""

    topic: str
    partition: int
    offset: int
    timestamp: int
    """Milliseconds since the epoch."""
    key: Any
    value: Any
    headers: Sequence[tuple[str, bytes | None]]


class OffsetRange(NamedTuple):
    """A Kafka partition's records ``from_offset <= offset < until_offset``."""

    topic: str
    partition: int
    from_offset: int
    until_offset: int

    @property
    def count(self) -> int:  # type: ignore[override]  # Spark's name; tuple's count(x) has no use here
        return self.until_offset - self.from_offset

    @staticmethod
    def create(topic: str, partition: int, from_offset: int, until_offset: int) -> "OffsetRange":
        if not isinstance(topic, str) or topic == "":
            raise ValueError(f"topic must be a non-empty string, got {topic!r}")
        for name, value in (("partition", partition), ("from_offset", from_offset), ("until_offset", until_offset)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
        if until_offset < from_offset:
            raise ValueError(
                f"offset range {topic}-{partition} [{from_offset}, {until_offset}) ends before it starts"
            )
        return OffsetRange(topic, partition, from_offset, until_offset)

    def __str__(self) -> str:
        return f"{self.topic}-{self.partition} [{self.from_offset}, {self.until_offset})"

