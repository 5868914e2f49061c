"""DStreams in Python: a sequence of RDDs, one per batch, built by the engine from the graph."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, Callable, Generic, TypeVar

from ._dataset import Dataset
from ._graph import Node
from .batch import Batch
from .rdd import RDD

if TYPE_CHECKING:
    from .context import StreamingContext

T = TypeVar("T")


def seconds_to_ms(seconds: float, what: str) -> int:
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
        raise ValueError(f"{what} must be a positive number of seconds, got {seconds!r}")
    ms = round(seconds * 1000)
    if abs(ms - seconds * 1000) > 1e-6 or ms < 1:
        raise ValueError(f"{what} must be a whole number of milliseconds, got {seconds!r} s")
    return ms


class DStream(Dataset[T], Generic[T]):
    """A discretized stream. Operations build new streams and run nothing; output operations
    (``foreach_batch``, ``pprint``) make the context run the stream once it starts."""

    def __init__(self, context: "StreamingContext", node: Node) -> None:
        self.context = context
        self._node = node

    def _derive(self, node: Node) -> "DStream[Any]":
        self.context._check_not_started("add an operation")
        return DStream(self.context, node)

    def union(self, *others: "DStream[T]") -> "DStream[T]":
        """The batches of this stream and of ``others`` together."""
        for other in others:
            if not isinstance(other, DStream) or other.context is not self.context:
                raise TypeError("union() takes DStreams of the same StreamingContext")
        return self._derive(Node("union", (self._node, *(o._node for o in others))))

    # ---- windows (durations in seconds, multiples of the batch interval) ----

    def window(self, window_duration: float, slide_duration: float | None = None) -> "DStream[T]":
        """Every ``slide_duration``, the elements of the last ``window_duration`` seconds."""
        params = {
            "length_ms": seconds_to_ms(window_duration, "window_duration"),
            "slide_ms": None if slide_duration is None else seconds_to_ms(slide_duration, "slide_duration"),
        }
        return self._derive(Node("window", (self._node,), params))

    def reduce_by_key_and_window(
        self,
        func: Callable[[Any, Any], Any],
        inv_func: Callable[[Any, Any], Any] | None,
        window_duration: float,
        slide_duration: float | None = None,
        num_partitions: int | None = None,
    ) -> "DStream[Any]":
        """For (key, value) pairs: each key's values in the window, merged with ``func``.

        Each window is computed from its batches; ``inv_func`` is accepted for PySpark
        compatibility and not needed (the result is the same).
        """
        return self.window(window_duration, slide_duration).reduce_by_key(func, num_partitions)

    def count_by_value_and_window(
        self, window_duration: float, slide_duration: float | None = None, num_partitions: int | None = None
    ) -> "DStream[Any]":
        return self.window(window_duration, slide_duration).count_by_value(num_partitions)

    # ---- state ----

    def update_state_by_key(
        self,
        update_func: Callable[[list[Any], Any], Any],
        num_partitions: int | None = None,
        *,
        name: str | None = None,
        checkpoint_interval: int | None = None,
    ) -> "DStream[Any]":
        """For (key, value) pairs: per-key state across batches. After every batch,
        ``update_func(new_values, last_state)`` runs for every key that received values and
        every key that has state (with no values); it returns the new state, or None to
        remove the key. The stream's batches are every key with its state.

        The state is kept by the engine and written to the checkpoint every
        ``checkpoint_interval`` batches (default 10) as data, never code; a restart loads
        the newest snapshot and recomputes the batches after it, so ``update_func`` must be
        deterministic. Give the stream a ``name`` and keep it when the code changes.
        """
        from ._dataset import _check_partitions
        from ._functions import FUNCTIONS

        digest = FUNCTIONS.add(update_func, "update_state_by_key's update_func")
        params = {
            "fn": digest,
            "partitions": _check_partitions(num_partitions),
            "name": name,
            "checkpoint_interval": checkpoint_interval,
        }
        return self._derive(Node("update_state", (self._node,), params, frozenset({digest})))

    updateStateByKey = update_state_by_key  # noqa: N815 - PySpark's name

    # ---- output operations ----

    def foreach_batch(self, fn: Callable[[RDD[T], Batch], Any] | Callable[[RDD[T]], Any]) -> None:
        """Calls ``fn(rdd, batch)`` in the driver for every batch, after its ranges are checkpointed.

        ``rdd`` is this stream's RDD of the batch (its actions run in the engine and the
        workers); ``batch`` has ``id``, ``time``, ``offset_ranges`` and ``replay``. The batch
        commits when ``fn`` returns; if it raises, the stream stops and a restart replays
        the batch with the same ranges. ``fn(rdd)`` with one parameter works too.
        """
        if not callable(fn):
            raise TypeError(f"foreach_batch's fn must be callable, got {fn!r}")
        self.context._add_output(self, _batch_function(fn))

    def foreach_rdd(self, fn: Callable[..., Any]) -> None:
        """PySpark's name: ``fn(rdd)`` or ``fn(time, rdd)``, time as a datetime."""
        if not callable(fn):
            raise TypeError(f"foreach_rdd's fn must be callable, got {fn!r}")
        if _positional_count(fn) >= 2:
            from datetime import datetime, timezone

            self.context._add_output(
                self, lambda rdd, batch: fn(datetime.fromtimestamp(batch.time / 1000, timezone.utc), rdd)
            )
        else:
            self.context._add_output(self, lambda rdd, batch: fn(rdd))

    def pprint(self, num: int = 10) -> None:
        """Prints the first ``num`` elements of every batch, under a header with the batch time."""

        def show(rdd: RDD[Any], batch: Batch) -> None:
            taken = rdd.take(num + 1)
            rule = "-" * 43
            print(f"{rule}\nBatch {batch.id}, time: {batch.time} ms\n{rule}")
            for element in taken[:num]:
                print(element)
            if len(taken) > num:
                print("...")
            print()

        self.context._add_output(self, show)


def _positional_count(fn: Callable[..., Any]) -> int:
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 2
    if any(p.kind == p.VAR_POSITIONAL for p in parameters):
        return 2
    return sum(1 for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))


def _batch_function(fn: Callable[..., Any]) -> Callable[[RDD[Any], Batch], Any]:
    if _positional_count(fn) >= 2:
        return fn
    return lambda rdd, batch: fn(rdd)
