"""A Python worker: runs the user's functions over chunks of records for the engine.

The engine starts a pool of these (``python -m sluice._worker <fd>``) and reuses them for
every task of the job. Each talks to the engine over the socket at file descriptor ``fd``
with frames (``_frames``); standard output and error stay the user's, for print().

A task is one partition of one stage: ``task`` (the stage: how input chunks decode, the
fused narrow operations, what to produce), then ``chunk`` after ``chunk`` (each answered
with ``out``: the records produced from it), then ``end`` (answered with ``done``: what
the stage produces at the end, e.g. the shuffle buckets). A user exception answers
``error`` with its traceback; the engine fails the task.
"""

from __future__ import annotations

import os
import pickle
import signal
import socket
import sys
import traceback
from itertools import chain, repeat
from typing import Any, Callable

import cloudpickle

from ._frames import ChannelClosed, FrameSocket
from ._hashing import portable_hash
from .records import KafkaRecord, int64_list

PICKLE_PROTOCOL = 5
_MISSING = object()
# Output lists are cut to this length, so one blob never holds a whole partition.
CHUNK_LENGTH = 4096

Blob = list  # [count, pickled list]


def _blob(items: list[Any]) -> list[Any]:
    return [len(items), pickle.dumps(items, PICKLE_PROTOCOL)]


def _blobs(items: list[Any]) -> list[list[Any]]:
    return [_blob(items[i : i + CHUNK_LENGTH]) for i in range(0, len(items), CHUNK_LENGTH)]


class UserError(Exception):
    """Wraps an exception raised by user code, keeping its traceback."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class DeserializationError(Exception):
    pass


# ---- input: how a chunk from the engine becomes a list of Python values ----


def _deserializer(spec: Any, functions: dict[str, Callable[..., Any]]) -> Callable[[Any], Any] | None:
    """None when the engine already delivers the final value (bytes, or its 'string'/'json')."""
    if spec is None or spec in ("bytes", "string", "json", "engine"):
        return None
    return functions[spec["fn"]]


def _kafka_input(spec: dict[str, Any], functions: dict[str, Callable[..., Any]]) -> Callable[[Any], list[Any]]:
    key_fn = _deserializer(spec.get("key"), functions)
    value_fn = _deserializer(spec.get("value"), functions)

    def decode(data: dict[str, Any]) -> list[Any]:
        topic = data["topic"]
        partition = data["partition"]
        offsets = int64_list(data["offsets"])
        timestamps = int64_list(data["timestamps"])
        keys = data["keys"]
        values = data["values"]
        if key_fn is not None:
            keys = _deserialize_all(keys, key_fn, "key", topic, partition, offsets)
        if value_fn is not None:
            values = _deserialize_all(values, value_fn, "value", topic, partition, offsets)
        headers = data["headers"]
        if headers is None:
            headers = repeat(())
        else:
            headers = [tuple((h[0], h[1]) for h in hs) for hs in headers]
        return list(
            map(
                KafkaRecord._make,
                zip(repeat(topic), repeat(partition), offsets, timestamps, keys, values, headers),
            )
        )

    return decode


def _deserialize_all(
    payloads: list[Any], fn: Callable[[bytes], Any], what: str, topic: str, partition: int, offsets: list[int]
) -> list[Any]:
    out = []
    for i, payload in enumerate(payloads):
        if payload is None:
            out.append(None)
            continue
        try:
            out.append(fn(payload))
        except Exception as error:  # noqa: BLE001 - any deserializer failure names the record
            raise UserError(
                DeserializationError(
                    f"the {what} deserializer failed on {topic}-{partition} offset {offsets[i]}: "
                    f"{type(error).__name__}: {error}"
                )
            ) from error
    return out


def _state_items(data: list[bytes]) -> list[Any]:
    """Buckets of per-key state as (key, state) pairs. Each bucket is what ``_update_bucket``
    produced: a blob whose one item is the pickled dict of the bucket's state."""
    return list(chain.from_iterable(pickle.loads(pickle.loads(blob)[0]).items() for blob in data))


def _pickled_input(data: list[bytes]) -> list[Any]:
    if len(data) == 1:
        return pickle.loads(data[0])
    return list(chain.from_iterable(pickle.loads(blob) for blob in data))


# ---- aggregators: map-side combine and reduce-side merge ----


class Aggregator:
    def __init__(self, spec: dict[str, Any], functions: dict[str, Callable[..., Any]]) -> None:
        self.kind = spec["kind"]
        if self.kind == "reduce":
            self.fn = functions[spec["fn"]]
        elif self.kind == "combine":
            self.create = functions[spec["create"]]
            self.merge_value = functions[spec["merge_value"]]
            self.merge_combiners = functions[spec["merge_combiners"]]
        elif self.kind != "group":
            raise ValueError(f"unknown aggregator {self.kind!r}")

    def combine(self, table: dict[Any, Any], pairs: list[Any]) -> None:
        """Adds (key, value) pairs to ``table``, which maps keys to combiners."""
        get = table.get
        try:
            if self.kind == "reduce":
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
            else:
                create, merge_value = self.create, self.merge_value
                for key, value in pairs:
                    current = get(key, _MISSING)
                    table[key] = create(value) if current is _MISSING else merge_value(current, value)
        except (TypeError, ValueError) as error:
            bad = _first_non_pair(pairs)
            if bad is not _MISSING:
                raise UserError(
                    TypeError(f"a key-value operation needs (key, value) pairs, got {bad!r}")
                ) from error
            raise

    def merge(self, table: dict[Any, Any], combined: list[Any]) -> None:
        """Merges (key, combiner) pairs from map outputs into ``table``."""
        get = table.get
        if self.kind == "group":
            for key, values in combined:
                current = get(key, _MISSING)
                if current is _MISSING:
                    table[key] = values
                else:
                    current.extend(values)
            return
        merge = self.fn if self.kind == "reduce" else self.merge_combiners
        for key, value in combined:
            current = get(key, _MISSING)
            table[key] = value if current is _MISSING else merge(current, value)


def _first_non_pair(pairs: list[Any]) -> Any:
    for item in pairs:
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            return item
    return _MISSING


# ---- the fused narrow operations ----


def _compile(ops: list[list[Any]], functions: dict[str, Callable[..., Any]]) -> Callable[[list[Any]], list[Any]]:
    steps: list[Callable[[list[Any]], list[Any]]] = []
    for op in ops:
        kind, fn = op[0], functions[op[1]]
        if kind == "map":
            steps.append(lambda items, fn=fn: list(map(fn, items)))
        elif kind == "flat_map":
            steps.append(lambda items, fn=fn: list(chain.from_iterable(map(fn, items))))
        elif kind == "filter":
            steps.append(lambda items, fn=fn: list(filter(fn, items)))
        elif kind == "map_partition":
            # A whole partition at once (the engine sends it as one chunk for such stages).
            steps.append(lambda items, fn=fn: list(fn(iter(items))))
        else:
            raise ValueError(f"unknown operation {kind!r}")

    def run(items: list[Any]) -> list[Any]:
        for step in steps:
            items = step(items)
        return items

    return run


# ---- a task ----


class Task:
    def __init__(self, spec: dict[str, Any], functions: dict[str, Callable[..., Any]]) -> None:
        source = spec["input"]
        self.input_kind = source["kind"]
        if self.input_kind == "kafka":
            self.decode: Callable[[Any], list[Any]] = _kafka_input(source, functions)
        elif self.input_kind in ("pickled", "combiners"):
            self.decode = _pickled_input
        elif self.input_kind == "states":
            self.decode = _state_items
        elif self.input_kind == "state":
            self.update = functions[source["fn"]]
            self.decode = self._update_bucket
        else:
            raise ValueError(f"unknown input {self.input_kind!r}")
        self.merger = Aggregator(source["merge"], functions) if self.input_kind == "combiners" else None
        self.merged: dict[Any, Any] = {}
        self.pipeline = _compile(spec["ops"], functions)
        output = spec["output"]
        self.output_kind = output["kind"]
        self.table: dict[Any, Any] = {}
        self.count = 0
        self.partial: Any = _MISSING
        if self.output_kind == "buckets":
            self.buckets = int(output["partitions"])
            self.combiner = Aggregator(output["aggregator"], functions)
        elif self.output_kind == "reduce":
            self.reduce_fn = functions[output["fn"]]
        elif self.output_kind not in ("pickled", "count", "none"):
            raise ValueError(f"unknown output {self.output_kind!r}")

    def _update_bucket(self, data: dict[str, Any]) -> list[Any]:
        """update_state_by_key over one bucket: ``fn(new_values, state)`` for every key that
        has values or state; None removes the key. Answers the bucket's new state, pickled."""
        # The state comes back as this method produced it: a blob whose one item is the dict, pickled.
        state: dict[Any, Any] = pickle.loads(pickle.loads(data["state"])[0]) if data["state"] else {}
        grouped: dict[Any, list[Any]] = {}
        for blob in data["values"]:
            for key, values in pickle.loads(blob):
                grouped.setdefault(key, []).extend(values)
        update = self.update
        updated: dict[Any, Any] = {}
        for key, values in grouped.items():
            new = update(values, state.get(key))
            if new is not None:
                updated[key] = new
        for key, old in state.items():
            if key not in grouped:
                new = update([], old)
                if new is not None:
                    updated[key] = new
        # Passed through the pipeline as one item: the pickled state of the whole bucket.
        return [pickle.dumps(updated, PICKLE_PROTOCOL)] if updated else []

    def chunk(self, data: Any) -> list[Any]:
        items = self.decode(data)
        if self.merger is not None:
            self.merger.merge(self.merged, items)
            return []
        return self._emit(self.pipeline(items))

    def end(self) -> Any:
        produced: list[Any] = []
        if self.merger is not None:
            items = list(self.merged.items())
            self.merged = {}
            for start in range(0, len(items), CHUNK_LENGTH):
                produced.extend(self._emit(self.pipeline(items[start : start + CHUNK_LENGTH])))
        kind = self.output_kind
        if kind == "pickled":
            return produced
        if kind == "buckets":
            parts: list[list[Any]] = [[] for _ in range(self.buckets)]
            n = self.buckets
            for pair in self.table.items():
                parts[portable_hash(pair[0]) % n].append(pair)
            return [_blob(part) if part else None for part in parts]
        if kind == "count":
            return self.count
        if kind == "reduce":
            return None if self.partial is _MISSING else pickle.dumps(self.partial, PICKLE_PROTOCOL)
        return None

    def _emit(self, items: list[Any]) -> list[Any]:
        kind = self.output_kind
        if kind == "pickled":
            return _blobs(items) if items else []
        if kind == "buckets":
            self.combiner.combine(self.table, items)
        elif kind == "count":
            self.count += len(items)
        elif kind == "reduce":
            fn = self.reduce_fn
            acc = self.partial
            for item in items:
                acc = item if acc is _MISSING else fn(acc, item)
            self.partial = acc
        return []


def _describe(error: BaseException) -> dict[str, Any]:
    original = error.error if isinstance(error, UserError) else error
    tb = original.__traceback__
    # Start the traceback at the user's code: frames of this module are the engine's business.
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    if tb is None:  # the error is the worker's own: keep all of it
        tb = original.__traceback__
    text = "".join(traceback.format_exception(type(original), original, tb))
    return {
        "type": type(original).__name__,
        "message": str(original),
        "traceback": text,
        "deserialization": isinstance(original, DeserializationError),
    }


def serve(channel: FrameSocket) -> None:
    functions: dict[str, Callable[..., Any]] = {}
    # One task at a time: a new one replaces a task the engine stopped feeding (a take()).
    current: tuple[int, Task] | None = None
    while True:
        try:
            message = channel.receive()
        except ChannelClosed:
            return
        kind = message[0]
        if kind == "hello":
            channel.send(["ready", {"pid": os.getpid()}])
            continue
        if kind == "exit":
            return
        task_id = message[1]
        try:
            if kind == "task":
                current = None
                for digest, payload in message[3].items():
                    if digest not in functions:
                        functions[digest] = cloudpickle.loads(payload)
                current = (task_id, Task(message[2], functions))
                channel.send(["started", task_id])
            elif current is None or current[0] != task_id:
                raise ValueError(f"the engine sent {kind!r} for task {task_id}, which is not running")
            elif kind == "chunk":
                channel.send(["out", task_id, current[1].chunk(message[2])])
            elif kind == "end":
                task = current[1]
                current = None
                channel.send(["done", task_id, task.end()])
            else:
                raise ValueError(f"unknown message {kind!r} from the engine")
        except Exception as error:  # noqa: BLE001 - every failure goes back to the engine
            current = None
            channel.send(["error", task_id, _describe(error)])


def main() -> None:
    # Ctrl-C in the driver's terminal is the driver's to handle; the engine stops the pool.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    fd = int(sys.argv[1])
    channel = FrameSocket(socket.socket(fileno=fd), "the sluice engine")
    try:
        serve(channel)
    finally:
        channel.close()


if __name__ == "__main__":
    main()
