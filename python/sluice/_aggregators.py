"""How a shuffle combines values by key: map-side combine and reduce-side merge.

- ``reduce``: values merged with the user's function (an ``a + b`` function adds inline);
- ``group``: values in lists, in partition order then record order;
- ``combine``: Spark's combineByKey trio;
- ``cogroup``: values tagged ``(side, value)`` into one list per side (``sides`` of them);
- ``pairs``: nothing combined: every pair kept as it came, in order (``partition_by``, the
  shuffle of ``sort_by_key``).

A table is what a task accumulates: a dict of key to combiner, or for ``pairs`` a list.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from ._blobs import UserError
from ._fast_paths import is_add

_MISSING = object()


class Aggregator:
    def __init__(self, spec: dict[str, Any], functions: dict[str, Callable[..., Any]]) -> None:
        self.kind = spec["kind"]
        # A reduce by `a + b`: the loops add in place of a call per value (the same result).
        self.adds = False
        if self.kind == "reduce":
            self.fn = functions[spec["fn"]]
            self.adds = is_add(self.fn)
        elif self.kind == "combine":
            self.create = functions[spec["create"]]
            self.merge_value = functions[spec["merge_value"]]
            self.merge_combiners = functions[spec["merge_combiners"]]
        elif self.kind == "cogroup":
            self.sides = int(spec["sides"])
        elif self.kind not in ("group", "pairs"):
            raise ValueError(f"unknown aggregator {self.kind!r}")

    def new_table(self) -> Any:
        return [] if self.kind == "pairs" else {}

    def items(self, table: Any) -> Iterable[tuple[Any, Any]]:
        """The table's (key, combiner) pairs, or for ``pairs`` the pairs themselves."""
        return table if self.kind == "pairs" else table.items()  # type: ignore[no-any-return]

    def combine(self, table: Any, pairs: Iterable[Any]) -> None:
        """Adds (key, value) pairs to ``table``."""
        if self.kind == "pairs":
            bad = _first_non_pair(pairs)
            if bad is not _MISSING:
                raise UserError(TypeError(f"a key-value operation needs (key, value) pairs, got {bad!r}"))
            table.extend(pairs)
            return
        get = table.get
        try:
            if self.adds:
                for key, value in pairs:
                    current = get(key, _MISSING)
                    table[key] = value if current is _MISSING else current + value
            elif self.kind == "reduce":
                fn = self.fn
                for key, value in pairs:
                    current = get(key, _MISSING)
                    table[key] = value if current is _MISSING else fn(current, value)
            elif self.kind == "group":
                for key, value in pairs:
                    current = get(key, _MISSING)
                    if current is _MISSING:
                        table[key] = [value]
                    else:
                        current.append(value)
            elif self.kind == "cogroup":
                sides = self.sides
                for key, (side, value) in pairs:
                    current = get(key, _MISSING)
                    if current is _MISSING:
                        current = table[key] = tuple([] for _ in range(sides))
                    current[side].append(value)
            else:
                create, merge_value = self.create, self.merge_value
                for key, value in pairs:
                    current = get(key, _MISSING)
                    table[key] = create(value) if current is _MISSING else merge_value(current, value)
        except (TypeError, ValueError) as error:
            bad = _first_non_pair(pairs)
            if bad is not _MISSING:
                raise UserError(TypeError(f"a key-value operation needs (key, value) pairs, got {bad!r}")) from error
            raise

    def merge(self, table: Any, combined: Iterable[Any]) -> None:
        """Merges (key, combiner) pairs from map outputs into ``table``."""
        if self.kind == "pairs":
            table.extend(combined)
            return
        get = table.get
        if self.kind == "group":
            for key, values in combined:
                current = get(key, _MISSING)
                if current is _MISSING:
                    table[key] = values
                else:
                    current.extend(values)
            return
        if self.kind == "cogroup":
            for key, lists in combined:
                current = get(key, _MISSING)
                if current is _MISSING:
                    table[key] = lists
                else:
                    for mine, theirs in zip(current, lists):
                        mine.extend(theirs)
            return
        if self.adds:
            for key, value in combined:
                current = get(key, _MISSING)
                table[key] = value if current is _MISSING else current + value
            return
        merge = self.fn if self.kind == "reduce" else self.merge_combiners
        for key, value in combined:
            current = get(key, _MISSING)
            table[key] = value if current is _MISSING else merge(current, value)


def _first_non_pair(pairs: Iterable[Any]) -> Any:
    if not isinstance(pairs, list):
        return _MISSING
    for item in pairs:
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            return item
    return _MISSING
