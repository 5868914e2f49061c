"""DStreams in Python: a sequence of RDDs, one per batch, built by the engine from the graph."""

from __future__ import annotations

import inspect
import pickle
from functools import partial
from typing import TYPE_CHECKING, Any, Callable, Generic, Iterable, Iterator, Mapping, TypeVar

from . import _joins
from ._blobs import PICKLE_PROTOCOL
from ._dataset import C, Dataset, K, PartitionFunc, U, V, W, check_callable, check_partitions
from ._functions import FUNCTIONS
from ._graph import Node, wire
from ._hashing import key_id
from .batch import Batch
from .rdd import RDD
from .state import StateSpec, StateSpecBuilder

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

    def _check_same_kind(self, other: Any, what: str) -> None:
        if not isinstance(other, DStream) or other.context is not self.context:
            raise TypeError(f"{what}() takes a DStream of the same StreamingContext, got {other!r}")

    if TYPE_CHECKING:
        # What each operation shared with RDD gives, for type checkers (see Dataset).
        def map(self, fn: Callable[[T], U]) -> DStream[U]: ...
        def flat_map(self, fn: Callable[[T], Iterable[U]]) -> DStream[U]: ...
        def filter(self, predicate: Callable[[T], bool]) -> DStream[T]: ...
        def map_partitions(self, fn: Callable[[Iterator[T]], Iterable[U]]) -> DStream[U]: ...
        def map_partitions_with_index(self, fn: Callable[[int, Iterator[T]], Iterable[U]]) -> DStream[U]: ...
        def map_values(self: DStream[tuple[K, V]], fn: Callable[[V], U]) -> DStream[tuple[K, U]]: ...
        def flat_map_values(self: DStream[tuple[K, V]], fn: Callable[[V], Iterable[U]]) -> DStream[tuple[K, U]]: ...
        def key_by(self, fn: Callable[[T], K]) -> DStream[tuple[K, T]]: ...
        def keys(self: DStream[tuple[K, V]]) -> DStream[K]: ...
        def values(self: DStream[tuple[K, V]]) -> DStream[V]: ...
        def reduce_by_key(
            self: DStream[tuple[K, V]],
            fn: Callable[[V, V], V],
            num_partitions: int | None = ...,
            partition_func: PartitionFunc | None = ...,
        ) -> DStream[tuple[K, V]]: ...
        def group_by_key(
            self: DStream[tuple[K, V]],
            num_partitions: int | None = ...,
            partition_func: PartitionFunc | None = ...,
        ) -> DStream[tuple[K, list[V]]]: ...
        def combine_by_key(
            self: DStream[tuple[K, V]],
            create_combiner: Callable[[V], C],
            merge_value: Callable[[C, V], C],
            merge_combiners: Callable[[C, C], C],
            num_partitions: int | None = ...,
            partition_func: PartitionFunc | None = ...,
        ) -> DStream[tuple[K, C]]: ...
        def aggregate_by_key(
            self: DStream[tuple[K, V]],
            zero_value: Any,  # C, but an empty [] or {} would pin C to list[Never]
            seq_func: Callable[[C, V], C],
            comb_func: Callable[[C, C], C],
            num_partitions: int | None = ...,
            partition_func: PartitionFunc | None = ...,
        ) -> DStream[tuple[K, C]]: ...
        def fold_by_key(
            self: DStream[tuple[K, V]],
            zero_value: V,
            func: Callable[[V, V], V],
            num_partitions: int | None = ...,
            partition_func: PartitionFunc | None = ...,
        ) -> DStream[tuple[K, V]]: ...
        def partition_by(
            self: DStream[tuple[K, V]],
            num_partitions: int | None,
            partition_func: PartitionFunc | None = ...,
        ) -> DStream[tuple[K, V]]: ...
        def glom(self) -> DStream[list[T]]: ...
        def distinct(self, num_partitions: int | None = ...) -> DStream[T]: ...
        def cogroup(
            self: DStream[tuple[K, V]],
            other: DStream[tuple[K, W]],
            num_partitions: int | None = ...,
        ) -> DStream[tuple[K, tuple[list[V], list[W]]]]: ...
        def join(
            self: DStream[tuple[K, V]],
            other: DStream[tuple[K, W]],
            num_partitions: int | None = ...,
        ) -> DStream[tuple[K, tuple[V, W]]]: ...
        def left_outer_join(
            self: DStream[tuple[K, V]],
            other: DStream[tuple[K, W]],
            num_partitions: int | None = ...,
        ) -> DStream[tuple[K, tuple[V, W | None]]]: ...
        def right_outer_join(
            self: DStream[tuple[K, V]],
            other: DStream[tuple[K, W]],
            num_partitions: int | None = ...,
        ) -> DStream[tuple[K, tuple[V | None, W]]]: ...
        def full_outer_join(
            self: DStream[tuple[K, V]],
            other: DStream[tuple[K, W]],
            num_partitions: int | None = ...,
        ) -> DStream[tuple[K, tuple[V | None, W | None]]]: ...

    def union(self, *others: "DStream[T]") -> "DStream[T]":
        """The batches of this stream and of ``others`` together."""
        for other in others:
            self._check_same_kind(other, "union")
        return self._derive(Node("union", (self._node, *(o._node for o in others))))

    def count_by_value(self, num_partitions: int | None = None) -> "DStream[tuple[T, int]]":
        """Each batch's distinct elements with how often they occur."""
        return self.map(_joins.with_one).reduce_by_key(_joins.add, num_partitions)

    def reduce(self, fn: Callable[[T, T], T]) -> "DStream[T]":
        """Each batch's elements combined with ``fn`` (associative, commutative): one element per
        batch with data."""
        return self.map(_joins.keyed_by_none).reduce_by_key(fn, 1).map(_joins.second)

    def count(self) -> "DStream[int]":
        """One element per batch: how many elements it has (0 for an empty batch)."""
        return self.map_partitions(_joins.count_partition).reduce(_joins.add)

    def transform(self, fn: Callable[[RDD[T]], RDD[Any]]) -> "DStream[Any]":
        """Each batch's RDD through ``fn``, which builds the new RDD from RDD operations: joins
        with other RDDs (``create_rdd``), shuffles, anything an RDD offers short of an action.

        ``fn`` runs once, in the driver, when the stream is defined, with a stand-in for every
        batch's RDD; the operations it records are applied to each batch in the engine.
        Decisions per batch belong in the functions ``fn`` passes to operations (they run in the
        workers, for every batch); an action inside ``fn`` raises.
        """
        check_callable(fn, "transform's fn")
        if _positional_count(fn) >= 2:
            raise TypeError(
                "transform's fn takes the RDD only: it runs once, when the stream is defined, "
                "not once per batch (use foreach_batch for the batch time)"
            )
        stand_in: RDD[T] = RDD(None, Node("transform_input", params={"index": 0}))
        result = fn(stand_in)
        if not isinstance(result, RDD):
            raise TypeError(f"transform's fn must return an RDD, got {result!r}")
        nodes, functions = wire([result._node])
        params = {"template": {"nodes": nodes, "target": result._node.id}}
        return self._derive(Node("transform", (self._node,), params, frozenset(functions)))

    # ---- windows (durations in seconds, multiples of the batch interval) ----

    def window(self, window_duration: float, slide_duration: float | None = None) -> "DStream[T]":
        """Every ``slide_duration``, the elements of the last ``window_duration`` seconds."""
        return self._derive(Node("window", (self._node,), _window_params(window_duration, slide_duration)))

    def reduce_by_window(
        self,
        fn: Callable[[T, T], T],
        inv_fn: Callable[[T, T], T] | None,
        window_duration: float,
        slide_duration: float | None = None,
    ) -> "DStream[T]":
        """The window's elements combined with ``fn``: one element per window with data. With
        ``inv_fn`` (``inv_fn(fn(a, b), b) == a``) each window is computed from the previous one."""
        reduced = self.reduce(fn)
        if inv_fn is None:
            return reduced.window(window_duration, slide_duration).reduce(fn)
        return (
            reduced.map(_joins.keyed_by_none)
            .reduce_by_key_and_window(fn, inv_fn, window_duration, slide_duration, 1)
            .map(_joins.second)
        )

    def count_by_window(self, window_duration: float, slide_duration: float | None = None) -> "DStream[int]":
        """How many elements each window has, computed incrementally."""
        return self.map(_joins.one).reduce_by_window(_joins.add, _joins.subtract, window_duration, slide_duration)

    def reduce_by_key_and_window(
        self: DStream[tuple[K, V]],
        func: Callable[[V, V], V],
        inv_func: Callable[[V, V], V] | None,
        window_duration: float,
        slide_duration: float | None = None,
        num_partitions: int | None = None,
        filter_func: Callable[[tuple[K, V]], bool] | None = None,
    ) -> DStream[tuple[K, V]]:
        """For (key, value) pairs: each key's values in the window, merged with ``func``.

        Each batch is reduced by key once. Without ``inv_func`` every window merges its
        batches' results. With ``inv_func`` (``inv_func(func(a, b), b) == a``) each window is
        the previous window's result minus the batches that left plus the batches that
        entered, as Spark does it: the cost follows the slide, not the window's length.
        ``filter_func((key, value))`` keeps a key in the result when true: give it when values
        can return to "nothing" (a count back at 0), or such keys stay with that value. After a
        restart the first window is computed from its batches.
        """
        reduced = self.reduce_by_key(func, num_partitions)
        if inv_func is None:
            windowed = reduced.window(window_duration, slide_duration).reduce_by_key(func, num_partitions)
            return windowed if filter_func is None else windowed.filter(filter_func)
        digests = {
            "fn": FUNCTIONS.add(func, "reduce_by_key_and_window's func"),
            "inv_fn": FUNCTIONS.add(inv_func, "reduce_by_key_and_window's inv_func"),
            "filter_fn": None if filter_func is None else FUNCTIONS.add(filter_func, "filter_func"),
        }
        tags = [FUNCTIONS.add(partial(_joins.tag, side)) for side in range(3)]
        params = {
            **digests,
            "tags": tags,
            **_window_params(window_duration, slide_duration),
            "partitions": check_partitions(num_partitions),
        }
        used = {d for d in digests.values() if d is not None} | set(tags)
        return self._derive(Node("reduce_window", (reduced._node,), params, frozenset(used)))

    def count_by_value_and_window(
        self, window_duration: float, slide_duration: float | None = None, num_partitions: int | None = None
    ) -> "DStream[Any]":
        """Each distinct element of the window with its count, computed incrementally."""
        return self.map(_joins.with_one).reduce_by_key_and_window(
            _joins.add, _joins.subtract, window_duration, slide_duration, num_partitions, _joins.positive_count
        )

    def group_by_key_and_window(
        self: DStream[tuple[K, V]],
        window_duration: float,
        slide_duration: float | None = None,
        num_partitions: int | None = None,
    ) -> DStream[tuple[K, list[V]]]:
        """For (key, value) pairs: each key with the list of its values in the window."""
        return self.window(window_duration, slide_duration).group_by_key(num_partitions)

    # ---- state ----

    def update_state_by_key(
        self,
        update_func: Callable[[list[Any], Any], Any],
        num_partitions: int | None = None,
        initial_state: Any = None,
        *,
        name: str | None = None,
        checkpoint_interval: int | None = None,
    ) -> "DStream[Any]":
        """For (key, value) pairs: per-key state across batches. After every batch,
        ``update_func(new_values, last_state)`` runs for every key that received values and
        every key that has state (with no values); it returns the new state, or None to
        remove the key. The stream's batches are every key with its state.

        ``initial_state``: (key, state) pairs, a dict, or an RDD of pairs — the state before
        batch 0. The engine keeps each key's state (pickled) and writes it to the checkpoint
        every ``checkpoint_interval`` batches (default 10) as data, never code; a restart loads
        the newest snapshot and recomputes the batches after it, so ``update_func`` must be
        deterministic. Give the stream a ``name`` and keep it when the code changes.
        """
        digest = FUNCTIONS.add(update_func, "update_state_by_key's update_func")
        params, functions = _state_params(digest, num_partitions, initial_state, name, checkpoint_interval)
        return self._derive(Node("update_state", (self._node,), params, functions))

    def map_with_state(self, spec: StateSpec | StateSpecBuilder) -> "MapWithStateDStream":
        """For (key, value) pairs: ``spec.fn(key, value, state)`` once per record, in the batch's
        order, with the key's :class:`State`; the stream's batches are what it returned (None
        emits nothing). Only keys that received data are visited, and, with a timeout, keys
        idle for longer (``value`` None, ``state.is_timing_out()``), which are then removed.
        ``state_snapshots()`` gives every key with its state after each batch."""
        if isinstance(spec, StateSpecBuilder):
            spec = spec.build()
        if not isinstance(spec, StateSpec):
            raise TypeError(f"map_with_state takes a StateSpec, got {spec!r}")
        digest = FUNCTIONS.add(spec.fn, "StateSpec's fn")
        params, functions = _state_params(
            digest, spec.num_partitions, spec.initial_state, spec.name, spec.checkpoint_interval
        )
        params["timeout_ms"] = None if spec.timeout is None else seconds_to_ms(spec.timeout, "timeout")
        params["timeout_batches"] = spec.timeout_batches
        self.context._check_not_started("add an operation")
        return MapWithStateDStream(self.context, Node("map_with_state", (self._node,), params, functions))

    updateStateByKey = update_state_by_key  # noqa: N815 - PySpark's name
    mapWithState = map_with_state  # noqa: N815 - Spark's name
    reduceByWindow = reduce_by_window  # noqa: N815
    countByWindow = count_by_window  # noqa: N815
    reduceByKeyAndWindow = reduce_by_key_and_window  # noqa: N815
    countByValueAndWindow = count_by_value_and_window  # noqa: N815
    groupByKeyAndWindow = group_by_key_and_window  # noqa: N815
    countByValue = count_by_value  # noqa: N815

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


class MapWithStateDStream(DStream[Any]):
    """What ``map_with_state``'s function emitted; ``state_snapshots()`` for the state itself."""

    def state_snapshots(self) -> DStream[tuple[Any, Any]]:
        """Every key with its state after each batch."""
        return self._derive(Node("state_snapshots", (self._node,)))

    stateSnapshots = state_snapshots  # noqa: N815 - Spark's name


def _window_params(window_duration: float, slide_duration: float | None) -> dict[str, Any]:
    return {
        "length_ms": seconds_to_ms(window_duration, "window_duration"),
        "slide_ms": None if slide_duration is None else seconds_to_ms(slide_duration, "slide_duration"),
    }


def _state_params(
    digest: str, num_partitions: int | None, initial_state: Any, name: str | None, checkpoint_interval: int | None
) -> tuple[dict[str, Any], frozenset[str]]:
    if checkpoint_interval is not None and (
        isinstance(checkpoint_interval, bool) or not isinstance(checkpoint_interval, int) or checkpoint_interval < 1
    ):
        raise ValueError(f"checkpoint_interval must be a positive integer, got {checkpoint_interval!r}")
    params: dict[str, Any] = {
        "fn": digest,
        "partitions": check_partitions(num_partitions),
        "name": name,
        "checkpoint_interval": checkpoint_interval,
    }
    functions = {digest}
    if isinstance(initial_state, RDD):
        nodes, used = wire([initial_state._node])
        params["initial_rdd"] = {"nodes": nodes, "target": initial_state._node.id}
        functions |= used
    elif initial_state is not None:
        pairs = initial_state.items() if isinstance(initial_state, Mapping) else initial_state
        params["initial_pairs"] = [[key_id(k), pickle.dumps((k, s), PICKLE_PROTOCOL)] for k, s in pairs]
    return params, frozenset(functions)
