"""What a foreach_batch function learns about its batch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .records import OffsetRange


@dataclass(frozen=True)
class Batch:
    """One micro-batch: its id, its time, its Kafka offset ranges, and whether it is a replay.

    ``replay`` is True when an earlier run planned this batch and died before committing
    it: the same ranges are being processed again.
    """

    id: int
    time: int
    """Batch time, milliseconds since the epoch."""
    offset_ranges: tuple[OffsetRange, ...]
    replay: bool

    @property
    def records(self) -> int:
        """Offsets the batch covers (its records, when offsets are consecutive)."""
        return sum(r.count for r in self.offset_ranges)

    @staticmethod
    def _from_engine(frame: dict[str, Any]) -> "Batch":
        return Batch(
            id=frame["id"],
            time=frame["time"],
            offset_ranges=tuple(OffsetRange(*r) for r in frame["offset_ranges"]),
            replay=frame["replay"],
        )
