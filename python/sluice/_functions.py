"""User functions as the engine knows them: cloudpickle bytes named by their SHA-256."""

from __future__ import annotations

import hashlib
import threading
from typing import Any, Callable

import cloudpickle


class FunctionStore:
    """Pickles functions and keeps their bytes by digest until a job sends them to the engine."""

    def __init__(self) -> None:
        self._payloads: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def add(self, fn: Callable[..., Any], what: str = "fn") -> str:
        if not callable(fn):
            raise TypeError(f"{what} must be callable, got {fn!r}")
        try:
            payload = cloudpickle.dumps(fn)
        except Exception as error:  # noqa: BLE001 - say which function could not travel
            raise TypeError(
                f"{what} cannot be sent to the workers: cloudpickle failed with {type(error).__name__}: {error}. "
                "Functions must not capture sockets, locks, open files or database connections"
            ) from error
        digest = hashlib.sha256(payload).hexdigest()
        with self._lock:
            self._payloads.setdefault(digest, payload)
        return digest

    def payloads(self, digests: set[str]) -> dict[str, bytes]:
        with self._lock:
            return {d: self._payloads[d] for d in digests}


FUNCTIONS = FunctionStore()
"""Every function the driver's jobs use, shared by every engine the process starts."""
