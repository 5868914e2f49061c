"""One task of a stage in a worker: input chunks in, through the fused operations, into an output.

The engine sends ``task`` (the stage spec), then ``chunk`` after ``chunk``, then ``end``;
every message gets one reply, and the engine may send a chunk before the previous one is
answered. The task pulls its chunks from the channel as its operations need them: before
reading a message it answers the chunk read before it (``out``: what that chunk produced,
for stages whose output is records), and ``end`` is answered with ``done`` and the stage's
end result (the shuffle buckets, a count...). A ``hello`` in between is answered at once; a
new ``task`` abandons this one (the engine stopped reading it early, as ``take`` does).
"""

from __future__ import annotations

import pickle
from collections import _count_elements  # type: ignore[attr-defined]  # Counter's C helper
from functools import reduce
from operator import add
from typing import Any, Callable, Iterator

from ._aggregators import Aggregator
from ._blobs import CHUNK_LENGTH, PICKLE_PROTOCOL, UserError, blob, blobs, unpickle_all
from ._fast_paths import constant_pair, is_add
from ._frames import FrameSocket
from ._hashing import key_id, portable_hash
from ._kafka_input import KafkaInput
from ._pipeline import Chunks, compile_pipeline
from ._state import StateUpdate

Functions = dict[str, Callable[..., Any]]
_MISSING = object()


class TaskAbandoned(BaseException):
    """The engine started another task: this one's frames unwind (a BaseException, so user
    code catching Exception does not swallow it)."""

    def __init__(self, message: list[Any]) -> None:
        super().__init__("abandoned")
        self.message = message


# ---- outputs ----


class RecordsOutput:
    """The records themselves, as blobs, sent with the answer to each chunk."""

    def __init__(self) -> None:
        self.ready: list[list[Any]] = []

    def add(self, chunk: list[Any]) -> None:
        if chunk:
            self.ready.extend(blobs(chunk) if len(chunk) > CHUNK_LENGTH else [blob(chunk)])

    def take(self) -> list[list[Any]]:
        ready, self.ready = self.ready, []
        return ready

    def finish(self) -> Any:
        return self.take()


class EndOutput:
    """Outputs with nothing to say until the end of the partition."""

    def take(self) -> list[Any]:
        return []


class BucketsOutput(EndOutput):
    """The map side of a shuffle: combined by key, split into buckets by the portable hash, or
    by the user's partition function (``partition_func(key) % partitions``, as in PySpark)."""

    def __init__(self, output: dict[str, Any], functions: Functions, counted_pair: int | None) -> None:
        self.partitions = int(output["partitions"])
        self.combiner = Aggregator(output["aggregator"], functions)
        partitioner = output.get("partitioner")
        self.partition_func: Callable[[Any], Any] | None = functions[partitioner] if partitioner else None
        self.counted_pair = counted_pair
        self.table: Any = self.combiner.new_table()

    def add(self, chunk: list[Any]) -> None:
        if self.counted_pair == 1:
            _count_elements(self.table, chunk)
        elif self.counted_pair is not None:
            counts: dict[Any, int] = {}
            _count_elements(counts, chunk)
            table, step = self.table, self.counted_pair
            for key, count in counts.items():
                table[key] = table.get(key, 0) + step * count
        else:
            self.combiner.combine(self.table, chunk)

    def finish(self) -> Any:
        parts: list[list[Any]] = [[] for _ in range(self.partitions)]
        n = self.partitions
        pairs = self.combiner.items(self.table)
        if self.partition_func is None:
            for pair in pairs:
                parts[portable_hash(pair[0]) % n].append(pair)
        else:
            partition_func = self.partition_func
            for pair in pairs:
                index = partition_func(pair[0])
                if not isinstance(index, int):
                    raise UserError(
                        TypeError(f"partition_func must return an int, got {index!r} for the key {pair[0]!r}")
                    )
                parts[index % n].append(pair)
        return [blob(part) if part else None for part in parts]


class KeyedOutput(EndOutput):
    """The map side of a stateful stream: each key's values grouped, as ``[key id, pickle((key, values))]``
    for the engine to shuffle by key id."""

    def __init__(self) -> None:
        self.table: dict[Any, list[Any]] = {}
        self.combiner = Aggregator({"kind": "group"}, {})

    def add(self, chunk: list[Any]) -> None:
        self.combiner.combine(self.table, chunk)

    def finish(self) -> Any:
        return [[key_id(key), pickle.dumps((key, values), PICKLE_PROTOCOL)] for key, values in self.table.items()]


class StatePairsOutput(EndOutput):
    """(key, state) pairs as a stateful stream's initial state: ``[key id, pickle((key, state))]``."""

    def __init__(self) -> None:
        self.pairs: list[list[Any]] = []

    def add(self, chunk: list[Any]) -> None:
        for key, state in chunk:
            self.pairs.append([key_id(key), pickle.dumps((key, state), PICKLE_PROTOCOL)])

    def finish(self) -> Any:
        return self.pairs


class WindowOutput(EndOutput):
    """An incremental window's keys, each with its values by side (previous result, leaving
    batches, entering batches): previous − leaving + entering, as Spark's
    ReducedWindowedDStream computes it. A key that left without being in the previous result
    (a filter dropped it while its value was not "nothing") cannot be derived: the window is
    then flagged for a computation from scratch."""

    def __init__(self, spec: dict[str, Any], functions: Functions) -> None:
        self.fn = functions[spec["fn"]]
        self.inv = functions[spec["inv"]]
        self.filter = functions[spec["filter"]] if spec.get("filter") else None
        self.items: list[Any] = []
        self.inconsistent = False

    def add(self, chunk: list[Any]) -> None:
        fn, inv, keep = self.fn, self.inv, self.filter
        for key, (previous, leaving, entering) in chunk:
            if previous:
                value = previous[0]
                if leaving:
                    value = inv(value, reduce(fn, leaving))
                if entering:
                    value = fn(value, reduce(fn, entering))
            elif leaving:
                self.inconsistent = True
                continue
            else:
                value = reduce(fn, entering)
            if keep is None or keep((key, value)):
                self.items.append((key, value))

    def finish(self) -> Any:
        return [self.inconsistent, blobs(self.items)]


class CountOutput(EndOutput):
    def __init__(self) -> None:
        self.count = 0

    def add(self, chunk: list[Any]) -> None:
        self.count += len(chunk)

    def finish(self) -> Any:
        return self.count


class ReduceOutput(EndOutput):
    """A partition folded with the user's function (left to right, as ``functools.reduce``)."""

    def __init__(self, fn: Callable[[Any, Any], Any]) -> None:
        self.fn = add if is_add(fn) else fn
        self.partial: Any = _MISSING

    def add(self, chunk: list[Any]) -> None:
        if chunk:
            acc = self.partial
            self.partial = reduce(self.fn, chunk) if acc is _MISSING else reduce(self.fn, chunk, acc)

    def finish(self) -> Any:
        return None if self.partial is _MISSING else pickle.dumps(self.partial, PICKLE_PROTOCOL)


class RawOutput(RecordsOutput):
    """Answers as they are (a state update's results), sent with the answer to each chunk."""

    def add(self, chunk: list[Any]) -> None:
        self.ready.extend(chunk)


class NoOutput(EndOutput):
    def add(self, chunk: list[Any]) -> None:
        pass

    def finish(self) -> Any:
        return None


def _output(spec: dict[str, Any], functions: Functions, counted_pair: int | None) -> Any:
    kind = spec["kind"]
    if kind == "pickled":
        return RecordsOutput()
    if kind == "buckets":
        return BucketsOutput(spec, functions, counted_pair)
    if kind == "keyed":
        return KeyedOutput()
    if kind == "state_pairs":
        return StatePairsOutput()
    if kind == "window":
        return WindowOutput(spec, functions)
    if kind == "count":
        return CountOutput()
    if kind == "reduce":
        return ReduceOutput(functions[spec["fn"]])
    if kind == "raw":
        return RawOutput()
    if kind == "none":
        return NoOutput()
    raise ValueError(f"unknown output {kind!r}")


# ---- the task ----


class Task:
    def __init__(self, spec: dict[str, Any], functions: Functions) -> None:
        source = spec["input"]
        self.input_kind = source["kind"]
        self.decode: Callable[[Any], list[Any]]
        self.merger: Aggregator | None = None
        self.state: StateUpdate | None = None
        if self.input_kind == "kafka":
            self.decode = KafkaInput(source, functions).decode
        elif self.input_kind == "pickled":
            self.decode = unpickle_all
        elif self.input_kind == "combiners":
            self.decode = unpickle_all
            self.merger = Aggregator(source["merge"], functions)
        elif self.input_kind == "state":
            self.state = StateUpdate(source, functions)
            self.decode = self.state.update
        elif self.input_kind == "states":
            self.decode = _state_items
        else:
            raise ValueError(f"unknown input {self.input_kind!r}")
        output = spec["output"]
        ops = spec["ops"]
        # `map(lambda x: (x, c))` then a reduce by `a + b` (count_by_value, a word count): each
        # key's combiner is c times its count, so the keys are counted in C instead.
        counted_pair = None
        if output["kind"] == "buckets" and ops and ops[-1][0] == "map":
            aggregator = output["aggregator"]
            if aggregator["kind"] == "reduce" and is_add(functions[aggregator["fn"]]):
                counted_pair = constant_pair(functions[ops[-1][1]])
                if counted_pair is not None:
                    ops = ops[:-1]
        self.pipeline = compile_pipeline(ops, functions, int(spec.get("partition") or 0))
        self.output = _output(output, functions, counted_pair)

    def run(self, channel: FrameSocket, task_id: int) -> None:
        """Runs the task to its end; raises what user code raised, or TaskAbandoned."""
        reader = _ChunkReader(channel, task_id, self.output)
        chunks: Chunks = _slices(self.decode(data) for data in reader)
        if self.merger is not None:
            chunks = self._merged(chunks)
        output = self.output
        for chunk in self.pipeline(chunks):
            output.add(chunk)
        # A map_partitions function may stop before its input ends: the chunks still coming
        # are answered (with nothing) before the end.
        for _ in reader:
            pass
        channel.send(["done", task_id, output.finish()])

    def _merged(self, chunks: Chunks) -> Chunks:
        """A reduce partition: every map output's combiners merged by key, then the operations."""
        assert self.merger is not None
        table = self.merger.new_table()
        for chunk in chunks:
            self.merger.merge(table, chunk)
        items = list(self.merger.items(table))
        for start in range(0, len(items), CHUNK_LENGTH):
            yield items[start : start + CHUNK_LENGTH]


# The engine sends thousands of records a frame (fewer frames, answers and wake-ups); the
# operations run over slices of this many, whose intermediate lists stay in the CPU's caches.
_SLICE = 512


def _slices(chunks: Chunks) -> Chunks:
    for chunk in chunks:
        if len(chunk) <= _SLICE:
            yield chunk
        else:
            for start in range(0, len(chunk), _SLICE):
                yield chunk[start : start + _SLICE]


def _state_items(data: list[bytes]) -> list[Any]:
    """A stateful stream's (key, state) pairs: each entry is ``pickle((key, state))``."""
    return list(map(pickle.loads, data))


class _ChunkReader:
    """The task's chunk payloads, read from the channel as the task asks for them."""

    def __init__(self, channel: FrameSocket, task_id: int, output: Any) -> None:
        self.channel = channel
        self.task_id = task_id
        self.output = output
        self.unanswered = False
        self.ended = False

    def __iter__(self) -> Iterator[Any]:
        channel, task_id = self.channel, self.task_id
        while not self.ended:
            if self.unanswered:
                channel.send(["out", task_id, self.output.take()])
                self.unanswered = False
            message = channel.receive()
            kind = message[0]
            if kind == "hello":
                channel.send(["ready", {}])
                continue
            if kind in ("task", "exit"):
                raise TaskAbandoned(message)
            if message[1] != task_id:
                raise ValueError(f"the engine sent {kind!r} for task {message[1]} during task {task_id}")
            if kind == "end":
                self.ended = True
                return
            if kind != "chunk":
                raise ValueError(f"unknown message {kind!r} from the engine")
            self.unanswered = True
            yield message[2]

