"""Per-key state across batches: ``map_with_state``'s State and StateSpec (Spark's names).

``update_state_by_key(fn)`` calls ``fn(new_values, last_state)`` for every key with values
or state, every batch. ``map_with_state(StateSpec(fn, ...))`` calls ``fn(key, value,
state)`` once per record, in the batch's order, and visits only the keys that received data
(and, with a timeout, the keys idle for too long): a batch costs what its records cost, not
what the whole state costs. The engine keeps the state per key, pickled, and writes it to
the checkpoint as data (never code).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Generic, Iterable, Mapping, TypeVar, Union, cast

S = TypeVar("S")


class State(Generic[S]):
    """One key's state, inside ``map_with_state``'s function."""

    def __init__(self, exists: bool, value: Any, timing_out: bool = False) -> None:
        self._exists = exists
        self._value = value
        self._timing_out = timing_out
        self.updated = False
        self.removed = False

    def exists(self) -> bool:
        return self._exists

    def get(self) -> S:
        """The state; raises KeyError when the key has none."""
        if not self._exists:
            raise KeyError("the key has no state: check exists() first, or use get_option()")
        return cast(S, self._value)

    def get_option(self, default: Any = None) -> Any:
        return self._value if self._exists else default

    def update(self, value: S) -> None:
        """Sets the key's state (not None: remove() removes it)."""
        if self._timing_out:
            raise ValueError("a state that is timing out cannot be updated: the key is removed after this call")
        if value is None:
            raise ValueError("the state cannot be None: call remove() to remove the key")
        self._exists, self._value = True, value
        self.updated, self.removed = True, False

    def remove(self) -> None:
        if self._timing_out:
            raise ValueError("a state that is timing out is removed already")
        self._exists, self._value = False, None
        self.updated, self.removed = False, True

    def is_timing_out(self) -> bool:
        """True in the one call a key gets after idling past the StateSpec's timeout (value None)."""
        return self._timing_out

    isTimingOut = is_timing_out  # noqa: N815 - Spark's name
    getOption = get_option  # noqa: N815 - Spark's name

    def __repr__(self) -> str:
        return f"State({self._value!r})" if self._exists else "State(<none>)"


MappingFunction = Callable[[Any, Any, State[Any]], Any]
InitialState = Union[Iterable[tuple[Any, Any]], Mapping[Any, Any], Any]


@dataclass(frozen=True)
class StateSpec:
    """What ``map_with_state`` does: ``fn(key, value, state)`` per record, returning what to
    emit (None emits nothing).

    - ``timeout``: seconds of batch time; a key without data for longer gets one last call
      (``value`` None, ``state.is_timing_out()`` true) and is removed. Or ``timeout_batches``:
      removed in the batch ``n + 1`` batches after its last data.
    - ``initial_state``: (key, state) pairs, a dict, or an RDD of pairs (``create_rdd(...)...``),
      the state before batch 0.
    - ``num_partitions``, ``name``, ``checkpoint_interval``: as for ``update_state_by_key``.
    """

    fn: MappingFunction
    timeout: float | None = None
    timeout_batches: int | None = None
    initial_state: InitialState | None = None
    num_partitions: int | None = None
    name: str | None = None
    checkpoint_interval: int | None = None

    def __post_init__(self) -> None:
        if not callable(self.fn):
            raise TypeError(f"StateSpec's fn must be callable, got {self.fn!r}")
        if self.timeout is not None and self.timeout_batches is not None:
            raise ValueError("give timeout (seconds) or timeout_batches, not both")
        if self.timeout is not None and (
            isinstance(self.timeout, bool) or not isinstance(self.timeout, (int, float)) or self.timeout <= 0
        ):
            raise ValueError(f"timeout must be a positive number of seconds, got {self.timeout!r}")
        if self.timeout_batches is not None and (
            isinstance(self.timeout_batches, bool) or not isinstance(self.timeout_batches, int) or self.timeout_batches < 1
        ):
            raise ValueError(f"timeout_batches must be a positive integer, got {self.timeout_batches!r}")

    @staticmethod
    def function(fn: MappingFunction) -> "StateSpecBuilder":
        """Spark's builder: ``StateSpec.function(fn).timeout(30).initial_state(pairs)``."""
        return StateSpecBuilder(fn)


class StateSpecBuilder:
    """``StateSpec.function(fn)`` with Spark's chained setters; pass it (or ``.build()``) to map_with_state."""

    def __init__(self, fn: MappingFunction) -> None:
        self._fields: dict[str, Any] = {"fn": fn}

    def _with(self, **fields: Any) -> "StateSpecBuilder":
        self._fields.update(fields)
        return self

    def timeout(self, seconds: float) -> "StateSpecBuilder":
        return self._with(timeout=seconds)

    def timeout_batches(self, batches: int) -> "StateSpecBuilder":
        return self._with(timeout_batches=batches)

    def initial_state(self, pairs: InitialState) -> "StateSpecBuilder":
        return self._with(initial_state=pairs)

    def num_partitions(self, n: int) -> "StateSpecBuilder":
        return self._with(num_partitions=n)

    def name(self, name: str) -> "StateSpecBuilder":
        return self._with(name=name)

    def checkpoint_interval(self, batches: int) -> "StateSpecBuilder":
        return self._with(checkpoint_interval=batches)

    initialState = initial_state  # noqa: N815 - Spark's name
    numPartitions = num_partitions  # noqa: N815 - Spark's name

    def build(self) -> StateSpec:
        return StateSpec(**self._fields)
