"""Listening to a running stream: what PySpark's StreamingListener offers, with sluice's events.

``StreamingContext.add_listener(listener)`` before ``start()``: the engine sends the
stream's events to the driver, which calls the listener's methods on the thread that runs
``foreach_batch`` functions, in order with them — a batch's ``on_batch_started`` comes
before its ``foreach_batch`` calls, its ``on_batch_completed`` after its commit. A listener
that raises is logged and skipped; it never fails the stream. Override only the methods
you need.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from .batch import Batch
from .errors import SluiceError

_log = logging.getLogger("sluice")


@dataclass(frozen=True)
class StreamingStarted:
    """The stream runs: recovery is done and the first batch comes next."""

    app: str
    time: int
    """Milliseconds since the epoch."""
    checkpoint: str | None
    pending_batch_id: int | None
    """The planned but uncommitted batch that is re-run first, if any."""
    recomputed_batches: int
    """Committed batches recomputed (without outputs) to rebuild state."""
    resumed_from: tuple[dict[str, Any], ...]
    """Per input: ``input``, ``fresh`` (no position in the checkpoint), ``description``,
    ``offsets`` as ``(topic, partition, next offset)``."""


@dataclass(frozen=True)
class StreamingStopped:
    time: int
    graceful: bool
    """False when the running batch was abandoned (a forced stop, or a graceful one that timed out)."""
    batches_completed: int
    error: SluiceError | None
    """What stopped the stream, when a failure did."""


@dataclass(frozen=True)
class BatchSubmitted:
    """The batch's offset ranges are durably logged (a replay's read back); it is queued."""

    batch_id: int
    batch_time: int
    replay: bool


@dataclass(frozen=True)
class BatchStarted:
    """The batch's work starts: its first output operation runs next."""

    batch: Batch
    started_at: int


@dataclass(frozen=True)
class BatchCompleted:
    """The batch is committed."""

    batch: Batch
    records: int
    """Records the batch read (offsets its ranges cover)."""
    lost_records: int
    """Records retention deleted before they were read (only with ``fail_on_data_loss=False``)."""
    scheduling_delay_ms: int
    processing_time_ms: int
    total_delay_ms: int
    started_at: int
    state_keys: int
    progress: dict[str, Any]
    """The engine's progress record of the batch, per input and partition (docs/progress.md)."""


@dataclass(frozen=True)
class BatchFailed:
    """The batch failed; the stream stops after it."""

    batch_id: int
    batch_time: int
    replay: bool
    error: SluiceError
    progress: dict[str, Any]


class StreamingListener:
    """Receives a stream's events; override the methods you need."""

    def on_streaming_started(self, event: StreamingStarted) -> None:
        pass

    def on_streaming_stopped(self, event: StreamingStopped) -> None:
        pass

    def on_batch_submitted(self, event: BatchSubmitted) -> None:
        pass

    def on_batch_started(self, event: BatchStarted) -> None:
        pass

    def on_batch_completed(self, event: BatchCompleted) -> None:
        pass

    def on_batch_failed(self, event: BatchFailed) -> None:
        pass


def _error(frame: dict[str, Any] | None) -> SluiceError | None:
    return None if frame is None else SluiceError(frame["code"], frame["message"])


def event_from_engine(frame: dict[str, Any]) -> tuple[str, Any]:
    """The listener method to call and its argument, for an event frame of the engine."""
    kind = frame["kind"]
    if kind == "streaming_started":
        return "on_streaming_started", StreamingStarted(
            app=frame["app"],
            time=frame["time"],
            checkpoint=frame["checkpoint"],
            pending_batch_id=frame["pending_batch_id"],
            recomputed_batches=frame["recomputed_batches"],
            resumed_from=tuple(frame["resumed_from"]),
        )
    if kind == "streaming_stopped":
        return "on_streaming_stopped", StreamingStopped(
            time=frame["time"],
            graceful=frame["graceful"],
            batches_completed=frame["batches_completed"],
            error=_error(frame["error"]),
        )
    if kind == "batch_submitted":
        return "on_batch_submitted", BatchSubmitted(frame["batch_id"], frame["batch_time"], frame["replay"])
    if kind == "batch_started":
        return "on_batch_started", BatchStarted(Batch._from_engine(frame["batch"]), frame["started_at"])
    if kind == "batch_completed":
        fields = {k: v for k, v in frame.items() if k not in ("kind", "batch")}
        return "on_batch_completed", BatchCompleted(batch=Batch._from_engine(frame["batch"]), **fields)
    if kind == "batch_failed":
        return "on_batch_failed", BatchFailed(
            batch_id=frame["batch_id"],
            batch_time=frame["batch_time"],
            replay=frame["replay"],
            error=_error(frame["error"]) or SluiceError("SLUICE_INTERNAL", "unknown failure"),
            progress=frame["progress"],
        )
    raise ValueError(f"unknown listener event {kind!r}")


def deliver(listeners: list[Any], frame: dict[str, Any]) -> None:
    """Calls each listener's method for the event; one that raises is logged and skipped."""
    method, event = event_from_engine(frame)
    for listener in listeners:
        handler = getattr(listener, method, None)
        if handler is None:
            continue
        try:
            handler(event)
        except Exception:  # noqa: BLE001 - a listener never fails the stream
            _log.exception("a streaming listener's %s raised; the stream goes on", method)
