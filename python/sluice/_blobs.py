"""Python values as the engine carries them: pickled lists it never looks into."""

from __future__ import annotations

import pickle
from itertools import chain
from typing import Any

PICKLE_PROTOCOL = 5
# Output lists are cut to this length, so one blob never holds a whole partition.
CHUNK_LENGTH = 4096


def blob(items: list[Any]) -> list[Any]:
    """``[count, pickled list]``: the engine reads the count (for ``count()``), never the list."""
    return [len(items), pickle.dumps(items, PICKLE_PROTOCOL)]


def blobs(items: list[Any]) -> list[list[Any]]:
    return [blob(items[i : i + CHUNK_LENGTH]) for i in range(0, len(items), CHUNK_LENGTH)]


def unpickle_all(data: list[bytes]) -> list[Any]:
    """The items of several blobs' pickled lists, in order."""
    if len(data) == 1:
        items: list[Any] = pickle.loads(data[0])
        return items
    return list(chain.from_iterable(pickle.loads(payload) for payload in data))


class UserError(Exception):
    """Wraps an exception raised by user code, keeping its traceback."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class DeserializationError(Exception):
    """A key or value deserializer failed on a record: deterministic, so the task is not retried."""
