"""Functions the key-value operations are built from: they travel to the workers like the
user's functions (cloudpickle names module functions by reference, so the workers import
this module), and are named by the digests of those references."""

from __future__ import annotations

import copy
from typing import Any, Callable, Iterator


def tag(side: int, pair: Any) -> tuple[Any, tuple[int, Any]]:
    """``(key, value)`` → ``(key, (side, value))``: which input of a cogroup the value came from."""
    return (pair[0], (side, pair[1]))


def inner(sides: tuple[list[Any], list[Any]]) -> Iterator[tuple[Any, Any]]:
    lefts, rights = sides
    return ((v, w) for v in lefts for w in rights)


def left_outer(sides: tuple[list[Any], list[Any]]) -> Iterator[tuple[Any, Any]]:
    lefts, rights = sides
    return ((v, w) for v in lefts for w in (rights or [None]))


def right_outer(sides: tuple[list[Any], list[Any]]) -> Iterator[tuple[Any, Any]]:
    lefts, rights = sides
    return ((v, w) for v in (lefts or [None]) for w in rights)


def full_outer(sides: tuple[list[Any], list[Any]]) -> Iterator[tuple[Any, Any]]:
    lefts, rights = sides
    return ((v, w) for v in (lefts or [None]) for w in (rights or [None]))


def first(pair: Any) -> Any:
    return pair[0]


def second(pair: Any) -> Any:
    return pair[1]


def with_one(value: Any) -> tuple[Any, int]:
    return (value, 1)


def with_none(value: Any) -> tuple[Any, None]:
    return (value, None)


def keyed_by_none(value: Any) -> tuple[None, Any]:
    return (None, value)


def one(_value: Any) -> int:
    return 1


def add(a: Any, b: Any) -> Any:
    return a + b


def subtract(a: Any, b: Any) -> Any:
    return a - b


def count_partition(items: Iterator[Any]) -> list[int]:
    return [sum(1 for _ in items)]


def map_values(fn: Any, pair: Any) -> tuple[Any, Any]:
    return (pair[0], fn(pair[1]))


def flat_map_values(fn: Any, pair: Any) -> Iterator[tuple[Any, Any]]:
    key = pair[0]
    return ((key, value) for value in fn(pair[1]))


def first_of(a: Any, _b: Any) -> Any:
    return a


def positive_count(pair: Any) -> bool:
    """count_by_value_and_window keeps the values still in the window."""
    return bool(pair[1] > 0)


def from_zero(zero: Any, fn: Callable[[Any, Any], Any], value: Any) -> Any:
    """A key's first value folded into its own copy of the zero value (aggregate_by_key,
    fold_by_key): keys never share a mutable zero."""
    return fn(copy.deepcopy(zero), value)


def as_list(items: Iterator[Any]) -> list[list[Any]]:
    """glom: a partition as one element."""
    return [list(items)]


def key_by(fn: Callable[[Any], Any], value: Any) -> tuple[Any, Any]:
    return (fn(value), value)
