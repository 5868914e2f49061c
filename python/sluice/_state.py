"""A stateful stream's update in a worker: new states (and emitted records) for a chunk of keys.

The engine keeps each key's state as ``pickle((key, state))`` and sends a chunk of keys as
items ``[state or None, [values...], timing out]``, where each of the values is
``pickle((key, [values of one map task]))`` in map-task order. Each item is answered with
``[new state, emitted]``: the new ``pickle((key, state))``, None to remove the key, or True
when nothing changed (nothing to write); and the records emitted as a blob, or None.
"""

from __future__ import annotations

import pickle
from typing import Any, Callable

from ._blobs import PICKLE_PROTOCOL, blob
from .state import State

_MISSING = object()


class StateUpdate:
    def __init__(self, spec: dict[str, Any], functions: dict[str, Callable[..., Any]]) -> None:
        self.mode = spec["mode"]
        if self.mode not in ("update_by_key", "map_with_state"):
            raise ValueError(f"unknown state mode {self.mode!r}")
        self.fn = functions[spec["fn"]]

    def update(self, items: list[Any]) -> list[Any]:
        run = self._update_by_key if self.mode == "update_by_key" else self._map_with_state
        return [run(*item) for item in items]

    def _update_by_key(self, old: bytes | None, payloads: list[bytes], timing_out: bool) -> list[Any]:
        key, state = pickle.loads(old) if old is not None else (_MISSING, None)
        values: list[Any] = []
        for payload in payloads:
            key, batch_values = pickle.loads(payload)
            values.extend(batch_values)
        new = self.fn(values, state)
        if new is None:
            return [None, None]
        written = pickle.dumps((key, new), PICKLE_PROTOCOL)
        return [True if written == old else written, None]

    def _map_with_state(self, old: bytes | None, payloads: list[bytes], timing_out: bool) -> list[Any]:
        key, current = pickle.loads(old) if old is not None else (_MISSING, None)
        exists = old is not None
        emitted: list[Any] = []
        fn = self.fn
        if timing_out:
            out = fn(key, None, State(True, current, timing_out=True))
            if out is not None:
                emitted.append(out)
            return [None, blob(emitted) if emitted else None]
        changed = False
        for payload in payloads:
            key, values = pickle.loads(payload)
            for value in values:
                state: State[Any] = State(exists, current)
                out = fn(key, value, state)
                if out is not None:
                    emitted.append(out)
                if state.updated or state.removed:
                    exists, current, changed = state.exists(), state.get_option(), True
        if not exists:
            written: Any = None
        elif not changed:
            written = True
        else:
            written = pickle.dumps((key, current), PICKLE_PROTOCOL)
        return [written, blob(emitted) if emitted else None]
