"""A stage's fused narrow operations, over a partition as an iterator of chunks (lists).

``map``, ``flat_map`` and ``filter`` work chunk by chunk with C-level ``map``/``filter``
(no Python frame per element but the user's function); ``map_partitions`` hands its function
the partition's elements as one lazy iterator and cuts what it yields back into chunks, so a
partition streams through it without being held in memory.
"""

from __future__ import annotations

from itertools import chain, islice
from typing import Any, Callable, Iterable, Iterator

from ._blobs import CHUNK_LENGTH

Chunks = Iterator[list[Any]]
Step = Callable[[Chunks], Chunks]


def _rechunk(items: Iterable[Any]) -> Chunks:
    iterator = iter(items)
    while True:
        chunk = list(islice(iterator, CHUNK_LENGTH))
        if not chunk:
            return
        yield chunk


def _step(kind: str, fn: Callable[..., Any], partition: int) -> Step:
    if kind == "map":
        return lambda chunks: (list(map(fn, chunk)) for chunk in chunks)
    if kind == "flat_map":
        return lambda chunks: (list(chain.from_iterable(map(fn, chunk))) for chunk in chunks)
    if kind == "filter":
        return lambda chunks: (list(filter(fn, chunk)) for chunk in chunks)
    if kind == "map_partitions":
        return lambda chunks: _rechunk(fn(chain.from_iterable(chunks)))
    if kind == "map_partitions_with_index":
        return lambda chunks: _rechunk(fn(partition, chain.from_iterable(chunks)))
    raise ValueError(f"unknown operation {kind!r}")


def compile_pipeline(
    ops: list[list[Any]], functions: dict[str, Callable[..., Any]], partition: int
) -> Callable[[Chunks], Chunks]:
    """The operations as one function from input chunks to output chunks (``partition``: the
    task's partition index, for ``map_partitions_with_index``)."""
    steps = [_step(kind, functions[digest], partition) for kind, digest in ops]

    def run(chunks: Chunks) -> Chunks:
        for step in steps:
            chunks = step(chunks)
        return chunks

    return run
