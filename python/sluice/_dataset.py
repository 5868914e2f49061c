"""Operations DStreams and RDDs share: each builds a graph node, none runs anything."""

from __future__ import annotations

from functools import partial
from typing import Any, Callable, Generic, Iterable, Iterator, TypeVar

from . import _joins
from ._functions import FUNCTIONS
from ._graph import Node

T = TypeVar("T")
U = TypeVar("U")
K = TypeVar("K")
V = TypeVar("V")
C = TypeVar("C")
W = TypeVar("W")
D = TypeVar("D", bound="Dataset[Any]")


PartitionFunc = Callable[[Any], int]
"""A key to its partition's index (taken modulo the number of partitions)."""


def check_partitions(num_partitions: int | None) -> int | None:
    if num_partitions is not None and (
        not isinstance(num_partitions, int) or isinstance(num_partitions, bool) or num_partitions < 1
    ):
        raise ValueError(f"num_partitions must be a positive integer, got {num_partitions!r}")
    return num_partitions


def check_callable(fn: Any, what: str) -> None:
    if not callable(fn):
        raise TypeError(f"{what} must be callable, got {fn!r}")


class Dataset(Generic[T]):
    """The operations of both DStream and RDD. Subclasses say how to wrap a new node and how
    to join with another dataset of their kind.

    The operations return ``Any`` here: RDD and DStream declare what each gives for a type
    checker (Python's typing cannot say "the same class with another type argument" in one
    signature). The implementations chain through the private ``_narrow``, ``_shuffle``,
    ``_combine`` and ``_cogroup``.
    """

    _node: Node

    def _derive(self: D, node: Node) -> Any:
        raise NotImplementedError

    def _check_same_kind(self, other: Any, what: str) -> None:
        raise NotImplementedError

    def _narrow(self, op: str, fn: Callable[..., Any], what: str) -> Any:
        digest = FUNCTIONS.add(fn, what)
        return self._derive(Node(op, (self._node,), {"fn": digest}, frozenset({digest})))

    # ---- narrow: fused into one Python stage per chunk ----


    def map(self, fn: Callable[[T], U]) -> Any:
        """Each element through ``fn``."""
        return self._narrow("map", fn, "map's fn")


    def flat_map(self, fn: Callable[[T], Iterable[U]]) -> Any:
        """Each element to zero or more elements."""
        return self._narrow("flat_map", fn, "flat_map's fn")


    def filter(self, predicate: Callable[[T], bool]) -> Any:
        """The elements for which ``predicate`` is true."""
        return self._narrow("filter", predicate, "filter's predicate")


    def map_partitions(self, fn: Callable[[Iterator[T]], Iterable[U]]) -> Any:
        """``fn`` over each partition's elements as one iterator, yielding the new elements.
        The partition streams through it (in chunks, as the engine reads it), so ``fn`` may
        batch, keep running totals or open one resource per partition."""
        return self._narrow("map_partitions", fn, "map_partitions's fn")


    def map_partitions_with_index(self, fn: Callable[[int, Iterator[T]], Iterable[U]]) -> Any:
        """As ``map_partitions``, with the partition's index first."""
        return self._narrow("map_partitions_with_index", fn, "map_partitions_with_index's fn")


    def map_values(self, fn: Callable[[Any], Any]) -> Any:
        """For (key, value) pairs: the value through ``fn``, the key kept."""
        check_callable(fn, "map_values's fn")
        return self._narrow("map", partial(_joins.map_values, fn), "map_values's fn")


    def flat_map_values(self, fn: Callable[[Any], Iterable[Any]]) -> Any:
        """For (key, value) pairs: each of ``fn(value)`` paired with the key."""
        check_callable(fn, "flat_map_values's fn")
        return self._narrow("flat_map", partial(_joins.flat_map_values, fn), "flat_map_values's fn")


    def key_by(self, fn: Callable[[T], Any]) -> Any:
        """Each element as ``(fn(element), element)``."""
        check_callable(fn, "key_by's fn")
        return self._narrow("map", partial(_joins.key_by, fn), "key_by's fn")


    def keys(self) -> Any:
        return self._narrow("map", _joins.first, "keys")


    def values(self) -> Any:
        return self._narrow("map", _joins.second, "values")

    # ---- wide: a shuffle; the map side combines in the workers ----

    def _shuffle(
        self,
        aggregator: dict[str, Any],
        digests: set[str],
        num_partitions: int | None,
        partition_func: PartitionFunc | None = None,
    ) -> Any:
        params: dict[str, Any] = {"aggregator": aggregator, "partitions": check_partitions(num_partitions)}
        used = set(digests)
        if partition_func is not None:
            params["partition_fn"] = FUNCTIONS.add(partition_func, "partition_func")
            used.add(params["partition_fn"])
        return self._derive(Node("shuffle", (self._node,), params, frozenset(used)))


    def reduce_by_key(
        self,
        fn: Callable[[Any, Any], Any],
        num_partitions: int | None = None,
        partition_func: PartitionFunc | None = None,
    ) -> Any:
        """For (key, value) pairs: the values of each key merged with ``fn`` (associative, commutative).

        ``partition_func(key) % num_partitions`` picks each key's partition when given; the
        default is a hash that is the same in every process (``sluice.portable_hash``)."""
        digest = FUNCTIONS.add(fn, "reduce_by_key's fn")
        return self._shuffle({"kind": "reduce", "fn": digest}, {digest}, num_partitions, partition_func)


    def group_by_key(
        self, num_partitions: int | None = None, partition_func: PartitionFunc | None = None
    ) -> Any:
        """For (key, value) pairs: each key with the list of its values."""
        return self._shuffle({"kind": "group"}, set(), num_partitions, partition_func)


    def combine_by_key(
        self,
        create_combiner: Callable[[Any], Any],
        merge_value: Callable[[Any, Any], Any],
        merge_combiners: Callable[[Any, Any], Any],
        num_partitions: int | None = None,
        partition_func: PartitionFunc | None = None,
    ) -> Any:
        """Spark's generic per-key aggregation: a combiner per key, built from its values."""
        return self._combine(create_combiner, merge_value, merge_combiners, num_partitions, partition_func)

    def _combine(
        self,
        create_combiner: Callable[[Any], Any],
        merge_value: Callable[[Any, Any], Any],
        merge_combiners: Callable[[Any, Any], Any],
        num_partitions: int | None,
        partition_func: PartitionFunc | None,
    ) -> Any:
        digests = {
            "create": FUNCTIONS.add(create_combiner, "create_combiner"),
            "merge_value": FUNCTIONS.add(merge_value, "merge_value"),
            "merge_combiners": FUNCTIONS.add(merge_combiners, "merge_combiners"),
        }
        return self._shuffle({"kind": "combine", **digests}, set(digests.values()), num_partitions, partition_func)


    def aggregate_by_key(
        self,
        zero_value: Any,
        seq_func: Callable[[Any, Any], Any],
        comb_func: Callable[[Any, Any], Any],
        num_partitions: int | None = None,
        partition_func: PartitionFunc | None = None,
    ) -> Any:
        """For (key, value) pairs: each key's values folded into a copy of ``zero_value`` with
        ``seq_func(acc, value)`` in each map task, the tasks' results merged with
        ``comb_func(acc, acc)``. Every key starts from its own deep copy of ``zero_value``, so a
        mutable zero (``[]``, ``{}``) may be changed in place and returned."""
        check_callable(seq_func, "aggregate_by_key's seq_func")
        check_callable(comb_func, "aggregate_by_key's comb_func")
        create = partial(_joins.from_zero, zero_value, seq_func)
        return self._combine(create, seq_func, comb_func, num_partitions, partition_func)


    def fold_by_key(
        self,
        zero_value: Any,
        func: Callable[[Any, Any], Any],
        num_partitions: int | None = None,
        partition_func: PartitionFunc | None = None,
    ) -> Any:
        """For (key, value) pairs: each key's values folded with ``func`` from a deep copy of
        ``zero_value`` (the neutral value of ``func``: 0 for addition, [] for concatenation) in
        each map task, and the tasks' results merged with ``func``."""
        check_callable(func, "fold_by_key's func")
        create = partial(_joins.from_zero, zero_value, func)
        return self._combine(create, func, func, num_partitions, partition_func)


    def partition_by(self, num_partitions: int | None, partition_func: PartitionFunc | None = None) -> Any:
        """For (key, value) pairs: every pair, unchanged and uncombined, in partition
        ``partition_func(key) % num_partitions`` (by default the portable hash of the key;
        ``num_partitions`` None: as many as this dataset has). Within a partition the pairs
        keep the order of the partitions they came from."""
        return self._shuffle({"kind": "pairs"}, set(), num_partitions, partition_func)


    def glom(self) -> Any:
        """Each partition's elements as one list (one list per partition, empty ones too)."""
        return self._narrow("map_partitions", _joins.as_list, "glom")


    def distinct(self, num_partitions: int | None = None) -> Any:
        """Each distinct element once."""
        keyed = self._narrow("map", _joins.with_none, "distinct")
        return keyed.reduce_by_key(_joins.first_of, num_partitions).keys()

    # ---- two inputs: cogroup and joins ----


    def cogroup(self, other: Any, num_partitions: int | None = None) -> Any:
        """For (key, value) pairs here and in ``other``: every key of either, with the list of
        its values here and the list of its values in ``other``: ``(key, (values, other_values))``."""
        return self._cogroup(other, num_partitions, "cogroup")

    def _cogroup(self, other: Any, num_partitions: int | None, what: str) -> Any:
        self._check_same_kind(other, what)
        left = self._narrow("map", partial(_joins.tag, 0), what)
        right = other._narrow("map", partial(_joins.tag, 1), what)
        return left.union(right)._shuffle({"kind": "cogroup", "sides": 2}, set(), num_partitions)


    def join(self, other: Any, num_partitions: int | None = None) -> Any:
        """Inner join: ``(key, (value, other_value))`` for every pair of values of a key present in both."""
        return self._cogroup(other, num_partitions, "join").flat_map_values(_joins.inner)


    def left_outer_join(self, other: Any, num_partitions: int | None = None) -> Any:
        """As ``join``, and keys missing from ``other`` keep their values, paired with None."""
        return self._cogroup(other, num_partitions, "left_outer_join").flat_map_values(_joins.left_outer)


    def right_outer_join(self, other: Any, num_partitions: int | None = None) -> Any:
        """As ``join``, and keys missing here keep ``other``'s values, paired with None."""
        return self._cogroup(other, num_partitions, "right_outer_join").flat_map_values(_joins.right_outer)


    def full_outer_join(self, other: Any, num_partitions: int | None = None) -> Any:
        """Every key of either side; a missing side's value is None."""
        return self._cogroup(other, num_partitions, "full_outer_join").flat_map_values(_joins.full_outer)

    # ---- PySpark's names ----

    flatMap = flat_map  # noqa: N815
    mapPartitions = map_partitions  # noqa: N815
    mapPartitionsWithIndex = map_partitions_with_index  # noqa: N815
    mapValues = map_values  # noqa: N815
    keyBy = key_by  # noqa: N815
    flatMapValues = flat_map_values  # noqa: N815
    reduceByKey = reduce_by_key  # noqa: N815
    groupByKey = group_by_key  # noqa: N815
    combineByKey = combine_by_key  # noqa: N815
    aggregateByKey = aggregate_by_key  # noqa: N815
    foldByKey = fold_by_key  # noqa: N815
    partitionBy = partition_by  # noqa: N815
    leftOuterJoin = left_outer_join  # noqa: N815
    rightOuterJoin = right_outer_join  # noqa: N815
    fullOuterJoin = full_outer_join  # noqa: N815
