"""Operations DStreams and RDDs share: each builds a graph node, none runs anything."""

from __future__ import annotations

from typing import Any, Callable, Generic, Iterable, TypeVar

from ._functions import FUNCTIONS
from ._graph import Node

T = TypeVar("T")
U = TypeVar("U")
K = TypeVar("K")
V = TypeVar("V")
C = TypeVar("C")
D = TypeVar("D", bound="Dataset[Any]")


def _check_partitions(num_partitions: int | None) -> int | None:
    if num_partitions is not None and (
        not isinstance(num_partitions, int) or isinstance(num_partitions, bool) or num_partitions < 1
    ):
        raise ValueError(f"num_partitions must be a positive integer, got {num_partitions!r}")
    return num_partitions


class Dataset(Generic[T]):
    """The operations of both DStream and RDD. Subclasses say how to wrap a new node."""

    _node: Node

    def _derive(self: D, node: Node) -> Any:
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

    def map_values(self, fn: Callable[[Any], Any]) -> Any:
        """For (key, value) pairs: the value through ``fn``, the key kept."""
        _check_callable(fn, "map_values's fn")
        return self.map(lambda pair: (pair[0], fn(pair[1])))

    def flat_map_values(self, fn: Callable[[Any], Iterable[Any]]) -> Any:
        """For (key, value) pairs: each of ``fn(value)`` paired with the key."""
        _check_callable(fn, "flat_map_values's fn")
        return self.flat_map(lambda pair: ((pair[0], v) for v in fn(pair[1])))

    def keys(self) -> Any:
        return self.map(_first)

    def values(self) -> Any:
        return self.map(_second)

    # ---- wide: a shuffle; the map side combines in the workers ----

    def _shuffle(self, aggregator: dict[str, Any], digests: set[str], num_partitions: int | None) -> Any:
        params = {"aggregator": aggregator, "partitions": _check_partitions(num_partitions)}
        return self._derive(Node("shuffle", (self._node,), params, frozenset(digests)))

    def reduce_by_key(self, fn: Callable[[V, V], V], num_partitions: int | None = None) -> Any:
        """For (key, value) pairs: the values of each key merged with ``fn`` (associative, commutative)."""
        digest = FUNCTIONS.add(fn, "reduce_by_key's fn")
        return self._shuffle({"kind": "reduce", "fn": digest}, {digest}, num_partitions)

    def group_by_key(self, num_partitions: int | None = None) -> Any:
        """For (key, value) pairs: each key with the list of its values."""
        return self._shuffle({"kind": "group"}, set(), num_partitions)

    def combine_by_key(
        self,
        create_combiner: Callable[[V], C],
        merge_value: Callable[[C, V], C],
        merge_combiners: Callable[[C, C], C],
        num_partitions: int | None = None,
    ) -> Any:
        """Spark's generic per-key aggregation: a combiner per key, built from its values."""
        digests = {
            "create": FUNCTIONS.add(create_combiner, "create_combiner"),
            "merge_value": FUNCTIONS.add(merge_value, "merge_value"),
            "merge_combiners": FUNCTIONS.add(merge_combiners, "merge_combiners"),
        }
        return self._shuffle({"kind": "combine", **digests}, set(digests.values()), num_partitions)

    def count_by_value(self, num_partitions: int | None = None) -> Any:
        """Each distinct element with how often it occurs."""
        return self.map(_with_one).reduce_by_key(_add, num_partitions)


def _check_callable(fn: Any, what: str) -> None:
    if not callable(fn):
        raise TypeError(f"{what} must be callable, got {fn!r}")


def _first(pair: Any) -> Any:
    return pair[0]


def _second(pair: Any) -> Any:
    return pair[1]


def _with_one(value: Any) -> tuple[Any, int]:
    return (value, 1)


def _add(a: Any, b: Any) -> Any:
    return a + b
