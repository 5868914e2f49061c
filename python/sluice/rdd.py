"""RDDs in Python: a batch's data inside foreach_batch, or Kafka offset ranges (create_rdd)."""

from __future__ import annotations

import pickle
from functools import partial
from itertools import chain
from typing import TYPE_CHECKING, Any, Callable, Generic, Iterable, Iterator, TypeVar, cast

from . import _joins, _sorting
from ._dataset import C, Dataset, K, PartitionFunc, U, V, W, check_callable, check_partitions
from ._engine import Engine
from ._functions import FUNCTIONS
from ._graph import Node, wire
from .errors import SluiceError
from .records import OffsetRange

T = TypeVar("T")


class RDD(Dataset[T], Generic[T]):
    """A lazy, partitioned dataset. Operations build new RDDs; actions run a job in the engine.

    Functions run in the Python workers, never in the driver; they must be deterministic
    (no clocks, randomness or set iteration order) so that a retried task or a replayed
    batch computes the same records.
    """

    def __init__(
        self, engine: Engine | None, node: Node, offset_ranges: tuple[OffsetRange, ...] | None = None
    ) -> None:
        self._engine = engine
        self._node = node
        self._offset_ranges = offset_ranges

    def _derive(self, node: Node) -> "RDD[Any]":
        return RDD(self._engine, node)

    def _check_same_kind(self, other: Any, what: str) -> None:
        if not isinstance(other, RDD):
            raise TypeError(f"{what}() takes an RDD, got {other!r}")

    if TYPE_CHECKING:
        # What each operation shared with DStream gives, for type checkers (see Dataset).
        def map(self, fn: Callable[[T], U]) -> RDD[U]: ...
        def flat_map(self, fn: Callable[[T], Iterable[U]]) -> RDD[U]: ...
        def filter(self, predicate: Callable[[T], bool]) -> RDD[T]: ...
        def map_partitions(self, fn: Callable[[Iterator[T]], Iterable[U]]) -> RDD[U]: ...
        def map_partitions_with_index(self, fn: Callable[[int, Iterator[T]], Iterable[U]]) -> RDD[U]: ...
        def map_values(self: RDD[tuple[K, V]], fn: Callable[[V], U]) -> RDD[tuple[K, U]]: ...
        def flat_map_values(self: RDD[tuple[K, V]], fn: Callable[[V], Iterable[U]]) -> RDD[tuple[K, U]]: ...
        def key_by(self, fn: Callable[[T], K]) -> RDD[tuple[K, T]]: ...
        def keys(self: RDD[tuple[K, V]]) -> RDD[K]: ...
        def values(self: RDD[tuple[K, V]]) -> RDD[V]: ...
        def reduce_by_key(
            self: RDD[tuple[K, V]],
            fn: Callable[[V, V], V],
            num_partitions: int | None = ...,
            partition_func: PartitionFunc | None = ...,
        ) -> RDD[tuple[K, V]]: ...
        def group_by_key(
            self: RDD[tuple[K, V]],
            num_partitions: int | None = ...,
            partition_func: PartitionFunc | None = ...,
        ) -> RDD[tuple[K, list[V]]]: ...
        def combine_by_key(
            self: RDD[tuple[K, V]],
            create_combiner: Callable[[V], C],
            merge_value: Callable[[C, V], C],
            merge_combiners: Callable[[C, C], C],
            num_partitions: int | None = ...,
            partition_func: PartitionFunc | None = ...,
        ) -> RDD[tuple[K, C]]: ...
        def aggregate_by_key(
            self: RDD[tuple[K, V]],
            zero_value: Any,  # C, but an empty [] or {} would pin C to list[Never]
            seq_func: Callable[[C, V], C],
            comb_func: Callable[[C, C], C],
            num_partitions: int | None = ...,
            partition_func: PartitionFunc | None = ...,
        ) -> RDD[tuple[K, C]]: ...
        def fold_by_key(
            self: RDD[tuple[K, V]],
            zero_value: V,
            func: Callable[[V, V], V],
            num_partitions: int | None = ...,
            partition_func: PartitionFunc | None = ...,
        ) -> RDD[tuple[K, V]]: ...
        def partition_by(
            self: RDD[tuple[K, V]],
            num_partitions: int | None,
            partition_func: PartitionFunc | None = ...,
        ) -> RDD[tuple[K, V]]: ...
        def glom(self) -> RDD[list[T]]: ...
        def distinct(self, num_partitions: int | None = ...) -> RDD[T]: ...
        def cogroup(
            self: RDD[tuple[K, V]],
            other: RDD[tuple[K, W]],
            num_partitions: int | None = ...,
        ) -> RDD[tuple[K, tuple[list[V], list[W]]]]: ...
        def join(
            self: RDD[tuple[K, V]],
            other: RDD[tuple[K, W]],
            num_partitions: int | None = ...,
        ) -> RDD[tuple[K, tuple[V, W]]]: ...
        def left_outer_join(
            self: RDD[tuple[K, V]],
            other: RDD[tuple[K, W]],
            num_partitions: int | None = ...,
        ) -> RDD[tuple[K, tuple[V, W | None]]]: ...
        def right_outer_join(
            self: RDD[tuple[K, V]],
            other: RDD[tuple[K, W]],
            num_partitions: int | None = ...,
        ) -> RDD[tuple[K, tuple[V | None, W]]]: ...
        def full_outer_join(
            self: RDD[tuple[K, V]],
            other: RDD[tuple[K, W]],
            num_partitions: int | None = ...,
        ) -> RDD[tuple[K, tuple[V | None, W | None]]]: ...

    @property
    def offset_ranges(self) -> tuple[OffsetRange, ...]:
        """The Kafka ranges this RDD reads (a Kafka RDD only; derived RDDs have none)."""
        if self._offset_ranges is None:
            raise AttributeError("only a Kafka RDD (from create_rdd or a direct stream's batch) has offset ranges")
        return self._offset_ranges

    def union(self, *others: "RDD[T]") -> "RDD[T]":
        """This RDD's partitions followed by each other's; nothing is deduplicated."""
        for other in others:
            if not isinstance(other, RDD):
                raise TypeError(f"union() takes RDDs, got {other!r}")
        engine = self._engine or next((o._engine for o in others if o._engine is not None), None)
        return RDD(engine, Node("union", (self._node, *(o._node for o in others))))

    # ---- sorting: a sampling job now, then a range shuffle ----

    def sort_by_key(
        self: RDD[tuple[K, V]],
        ascending: bool = True,
        num_partitions: int | None = None,
        key_func: Callable[[K], Any] | None = None,
    ) -> RDD[tuple[K, V]]:
        """For (key, value) pairs: the pairs sorted by key (by ``key_func(key)`` when given),
        ascending or descending, over ``num_partitions`` partitions (default: as many as this
        RDD has) that hold consecutive ranges of keys, so ``collect()`` is globally sorted.
        Equal keys keep their order within each input partition.

        As in Spark, choosing the ranges runs a job when this is called: each partition's
        keys are sampled (seeded by partition, so a rerun chooses the same ranges) and the
        driver picks bounds that split the sample evenly. That job needs a runnable RDD; in
        ``transform``'s function only ``num_partitions=1`` (no ranges to choose) works."""
        check_partitions(num_partitions)
        if key_func is not None:
            check_callable(key_func, "sort_by_key's key_func")
        sort = partial(_sorting.sort_partition, key_func, bool(ascending))
        if num_partitions == 1:
            return self.partition_by(1).map_partitions(sort)
        if self._engine is None or any(node.op == "transform_input" for node in self._node.lineage()):
            raise SluiceError(
                "SLUICE_INVALID_ARGUMENT",
                "sort_by_key samples the keys (a job) to choose each partition's range of keys, which "
                "transform's function cannot run: give num_partitions=1, or sort in foreach_batch",
            )
        samples = self.map_partitions_with_index(partial(_sorting.sample_keys, _sorting.sample_size(num_partitions)))
        sampled: list[tuple[int, list[Any]]] = samples.collect()
        partitions = num_partitions or max(1, len(sampled))
        bounds = _sorting.range_bounds(sampled, partitions, key_func)
        ranges = partial(_sorting.range_partition, bounds, key_func, bool(ascending))
        return self.partition_by(partitions, ranges).map_partitions(sort)

    def sort_by(
        self, key_func: Callable[[T], Any], ascending: bool = True, num_partitions: int | None = None
    ) -> "RDD[T]":
        """The elements sorted by ``key_func(element)``, as ``sort_by_key`` sorts pairs."""
        check_callable(key_func, "sort_by's key_func")
        # (mypy mis-binds the pair type variables of methods called on self inside the class;
        # callers outside see RDD[T].)
        keyed: Any = self.key_by(key_func)
        return cast("RDD[T]", keyed.sort_by_key(ascending, num_partitions).values())

    # ---- actions ----

    def _action(self, action: dict[str, Any], functions: frozenset[str] = frozenset()) -> Any:
        if self._engine is None or any(node.op == "transform_input" for node in self._node.lineage()):
            raise SluiceError(
                "SLUICE_INVALID_ARGUMENT",
                "an RDD of transform's function cannot run actions: the function runs once, when the job "
                "starts, to record the operations each batch's RDD goes through; use foreach_batch to act on batches",
            )
        nodes, needed = wire([self._node])
        params = {"nodes": nodes, "target": self._node.id, "action": action}
        return self._engine.call("rdd.action", params, needed | functions)

    def collect(self) -> list[T]:
        """Every element, in partition order then element order."""
        blobs = self._action({"kind": "collect"})
        return list(chain.from_iterable(pickle.loads(blob) for blob in blobs))

    def count(self) -> int:
        """How many elements; a Kafka RDD answers from its offsets without reading."""
        return int(self._action({"kind": "count"}))

    def take(self, n: int) -> list[T]:
        """The first ``n`` elements in partition order, reading as few partitions as it can."""
        if not isinstance(n, int) or n < 0:
            raise ValueError(f"n must be a non-negative integer, got {n!r}")
        if n == 0:
            return []
        out: list[T] = []
        for blob in self._action({"kind": "take", "n": n}):
            out.extend(pickle.loads(blob))
            if len(out) >= n:
                break
        return out[:n]

    def first(self) -> T:
        taken = self.take(1)
        if not taken:
            raise ValueError("first() of an empty RDD")
        return taken[0]

    def is_empty(self) -> bool:
        return self.count() == 0 if self._offset_ranges is not None else not self.take(1)

    def reduce(self, fn: Callable[[T, T], T]) -> T:
        """All elements combined with ``fn`` (associative, commutative); each partition in its worker."""
        digest = FUNCTIONS.add(fn, "reduce's fn")
        partials = [pickle.loads(p) for p in self._action({"kind": "reduce", "fn": digest}, frozenset({digest}))]
        if not partials:
            raise ValueError("reduce() of an empty RDD")
        result: T = partials[0]
        for partial in partials[1:]:
            result = fn(result, partial)
        return result

    def sum(self) -> Any:
        return self.reduce(_joins.add) if not self.is_empty() else 0

    def foreach(self, fn: Callable[[T], Any]) -> None:
        """Calls ``fn`` on every element, in the workers."""
        digest = FUNCTIONS.add(fn, "foreach's fn")
        self._action({"kind": "foreach", "fn": digest}, frozenset({digest}))

    def count_by_value(self, num_partitions: int | None = None) -> dict[Any, int]:
        """An action, as in Spark: each distinct element with how often it occurs."""
        return dict(self.map(_joins.with_one).reduce_by_key(_joins.add, num_partitions).collect())

    def collect_as_map(self: RDD[tuple[K, V]]) -> dict[K, V]:
        """For (key, value) pairs: a dict (a key given twice keeps its last value)."""
        return dict(self.collect())

    countByValue = count_by_value  # noqa: N815 - PySpark's name
    sortByKey = sort_by_key  # noqa: N815 - PySpark's name
    sortBy = sort_by  # noqa: N815 - PySpark's name
    collectAsMap = collect_as_map  # noqa: N815 - PySpark's name
    isEmpty = is_empty  # noqa: N815 - PySpark's name
