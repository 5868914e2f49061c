"""sort_by_key, partition_by, aggregate_by_key and fold_by_key over real Kafka ranges and a
stream: exact results, each key in the partition its function names, globally sorted
collects, mutable zero values copied per key, and partitions that do not depend on
PYTHONHASHSEED."""

from __future__ import annotations

import json
import operator
import os
import subprocess
import sys
import threading
from collections import Counter
from typing import Any

import pytest

from helpers import run_until
from sluice import KafkaUtils, SluiceError, StreamingContext, create_rdd, portable_hash

pytestmark = pytest.mark.kafka  # the run's broker (KAFKA_BOOTSTRAP)

COUNT = 300


def key_of(i: int) -> int:
    """Keys 0..100 scattered over the records, most of them several times."""
    return (i * 37) % 101


def pairs_expected() -> list[tuple[int, int]]:
    return [(key_of(i), i) for i in range(COUNT)]


@pytest.fixture
def pairs(admin, new_topic, brokers):
    """(key_of(i), i) for i < 300, record i in partition i % 3 of a three-partition topic."""
    topic = new_topic(partitions=3)
    admin.produce(topic, [{"value": str(i), "partition": i % 3} for i in range(COUNT)])
    records = create_rdd(brokers, [(topic, p, 0, COUNT // 3) for p in range(3)], value_deserializer="string")
    return records.map(lambda r: ((int(r.value) * 37) % 101, int(r.value)))


def check_ranges(parts: list[list[tuple[int, int]]], descending: bool = False) -> None:
    """Every partition sorted, holding keys strictly before (after, descending) the next one's."""
    keys = [[k for k, _ in part] for part in parts]
    for part in keys:
        assert part == sorted(part, reverse=descending)
    filled = [part for part in keys if part]
    for before, after in zip(filled, filled[1:]):
        assert (before[-1] > after[0]) if descending else (before[-1] < after[0])


def test_sort_by_key_sorts_across_partitions(pairs) -> None:
    expected = pairs_expected()
    ascending = pairs.sort_by_key(num_partitions=4)
    collected = ascending.collect()
    assert [k for k, _ in collected] == sorted(k for k, _ in expected)
    assert sorted(collected) == sorted(expected)
    parts = ascending.glom().collect()
    assert len(parts) == 4
    assert all(parts), "the sample's bounds leave no partition empty over 101 spread keys"
    check_ranges(parts)

    descending = pairs.sort_by_key(ascending=False)  # as many partitions as the input: 3
    parts = descending.glom().collect()
    assert len(parts) == 3 and all(parts)
    check_ranges(parts, descending=True)
    assert [k for k, _ in descending.collect()] == sorted((k for k, _ in expected), reverse=True)

    # key_func orders by the last digit, then the key: ranges follow key_func, not the key.
    by_digit = pairs.sort_by_key(num_partitions=2, key_func=lambda k: (k % 10, k)).keys().collect()
    assert by_digit == sorted((k for k, _ in expected), key=lambda k: (k % 10, k))
    assert pairs.sort_by(lambda kv: kv[1], ascending=False, num_partitions=3).values().collect() == list(
        range(COUNT - 1, -1, -1)
    )
    assert pairs.filter(lambda kv: False).sort_by_key(num_partitions=3).collect() == []


def test_partition_by_puts_each_key_where_its_function_says(pairs) -> None:
    expected = pairs_expected()
    parts = pairs.partition_by(4, lambda k: k * 3).glom().collect()
    assert len(parts) == 4
    for index, part in enumerate(parts):
        assert part and all((k * 3) % 4 == index for k, _ in part)
    # Nothing combined or lost: every pair once, each input partition's pairs in their order.
    assert sorted(pair for part in parts for pair in part) == sorted(expected)
    for part in parts:
        values_by_input = [[v for _, v in part if v % 3 == p] for p in range(3)]
        assert all(values == sorted(values) for values in values_by_input)

    hashed = pairs.partition_by(5).glom().collect()
    for index, part in enumerate(hashed):
        assert all(portable_hash(k) % 5 == index for k, _ in part)
    assert sum(len(part) for part in hashed) == COUNT

    # Other shuffles take the partition function too.
    summed = pairs.reduce_by_key(operator.add, 2, lambda k: k).glom().collect()
    assert [sorted(k for k, _ in part) for part in summed] == [list(range(0, 101, 2)), list(range(1, 101, 2))]


def test_partition_func_returning_no_int_fails_naming_it(pairs) -> None:
    with pytest.raises(SluiceError, match="partition_func must return an int, got 'x'"):
        pairs.partition_by(2, lambda k: "x").collect()


def test_aggregate_by_key_copies_a_mutable_zero_per_key(pairs) -> None:
    expected: dict[int, list[int]] = {}
    for k, v in pairs_expected():
        expected.setdefault(k, []).append(v)

    def add_value(acc: list[int], value: int) -> list[int]:
        acc.append(value)
        return acc

    def merge(a: list[int], b: list[int]) -> list[int]:
        a.extend(b)
        return a

    lists = dict(pairs.aggregate_by_key([], add_value, merge, 4).collect())
    assert {k: sorted(v) for k, v in lists.items()} == expected
    sums_and_counts = dict(
        pairs.aggregate_by_key((0, 0), lambda acc, v: (acc[0] + v, acc[1] + 1), lambda a, b: (a[0] + b[0], a[1] + b[1]))
        .collect()
    )
    assert sums_and_counts == {k: (sum(v), len(v)) for k, v in expected.items()}


def test_fold_by_key_folds_from_the_zero_per_key(pairs) -> None:
    expected: dict[int, list[int]] = {}
    for k, v in pairs_expected():
        expected.setdefault(k, []).append(v)
    assert dict(pairs.fold_by_key(0, operator.add).collect()) == {k: sum(v) for k, v in expected.items()}
    # A zero that is not neutral shows how often it is used: once per key per map task.
    tasks_per_key = {k: len({v % 3 for v in values}) for k, values in expected.items()}
    assert dict(pairs.fold_by_key(1000, operator.add, 2).collect()) == {
        k: sum(v) + 1000 * tasks_per_key[k] for k, v in expected.items()
    }

    def extend(a: list[int], b: list[int]) -> list[int]:
        a.extend(b)
        return a

    lists = dict(pairs.map_values(lambda v: [v]).fold_by_key([], extend).collect())
    assert {k: sorted(v) for k, v in lists.items()} == expected


def test_partitions_do_not_depend_on_the_hash_seed(pairs, brokers) -> None:
    """Two drivers (and their engines and workers) with different PYTHONHASHSEED put each text
    key in the same partition; Python's own hash of the same keys differs between them."""
    script = r"""
import json, sys
from sluice import create_rdd
ranges = json.loads(sys.argv[1])
words = create_rdd(sys.argv[2].split(","), ranges, value_deserializer="string").map(lambda r: (f"w{int(r.value) % 41}", 1))
print(json.dumps({
    "hash": hash("w1"),
    "partitioned": [sorted({k for k, _ in part}) for part in words.partition_by(4).glom().collect()],
    "reduced": [sorted(part) for part in words.reduce_by_key(lambda a, b: a + b, 3).glom().collect()],
}))
"""
    ranges = [list(r) for r in _ranges_of(pairs)]
    outputs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", script, json.dumps(ranges), ",".join(brokers)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        outputs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    first, second = outputs
    assert first["hash"] != second["hash"]
    assert first["partitioned"] == second["partitioned"]
    assert first["reduced"] == second["reduced"]
    words = [f"w{i}" for i in range(41)]
    assert first["partitioned"] == [sorted(w for w in words if portable_hash(w) % 4 == p) for p in range(4)]
    counts = Counter(f"w{i % 41}" for i in range(COUNT))
    assert first["reduced"] == [sorted([w, counts[w]] for w in words if portable_hash(w) % 3 == p) for p in range(3)]


def _ranges_of(rdd: Any) -> list[tuple[str, int, int, int]]:
    """The Kafka ranges under a derived RDD (its lineage's kafka_rdd node)."""
    for node in rdd._node.lineage():
        if node.op == "kafka_rdd":
            return [tuple(r) for r in node.params["ranges"]]
    raise AssertionError("no Kafka ranges under the RDD")


def test_key_operations_on_a_stream(admin, new_topic, brokers, tmp_path) -> None:
    topic = new_topic(partitions=3)
    admin.produce(topic, [{"value": str(i), "partition": i % 3} for i in range(COUNT)])
    ssc = StreamingContext("py-key-ops", 0.2, str(tmp_path / "ckpt"))
    stream = KafkaUtils.create_direct_stream(
        ssc, brokers, [topic], starting_offsets="earliest", value_deserializer="string", max_rate_per_partition=200
    )
    pairs = stream.map(lambda r: ((int(r.value) * 37) % 101, int(r.value)))
    lock = threading.Lock()
    seen: dict[str, Any] = {"folded": Counter(), "lists": {}, "partitioned": [], "sorted": [], "one": [], "records": 0}

    def on_folded(rdd: Any, batch: Any) -> None:
        with lock:
            seen["folded"].update(dict(rdd.collect()))
            seen["records"] += batch.records

    def on_lists(rdd: Any) -> None:
        with lock:
            for k, values in rdd.collect():
                seen["lists"].setdefault(k, []).extend(values)

    def on_partitioned(rdd: Any) -> None:
        parts = rdd.glom().collect()
        with lock:
            seen["partitioned"].append(parts)

    def on_sorted(rdd: Any) -> None:
        parts = rdd.sort_by_key(ascending=False, num_partitions=2).glom().collect()
        with lock:
            seen["sorted"].append(parts)

    def on_one(rdd: Any) -> None:
        collected = rdd.collect()
        with lock:
            seen["one"].append(collected)

    def append(acc: list[int], value: int) -> list[int]:
        acc.append(value)
        return acc

    pairs.fold_by_key(0, operator.add).foreach_batch(on_folded)
    pairs.aggregate_by_key([], append, operator.iadd, 2).foreach_batch(on_lists)
    pairs.partition_by(3, lambda k: k // 10).foreach_batch(on_partitioned)
    pairs.foreach_batch(on_sorted)
    pairs.transform(lambda rdd: rdd.sort_by_key(num_partitions=1)).foreach_batch(on_one)
    with pytest.raises(SluiceError, match="sort_by_key samples the keys"):
        pairs.transform(lambda rdd: rdd.sort_by_key(num_partitions=2))
    run_until(ssc, lambda: seen["records"] >= COUNT)

    expected: dict[int, list[int]] = {}
    for k, v in pairs_expected():
        expected.setdefault(k, []).append(v)
    assert seen["records"] == COUNT
    assert dict(seen["folded"]) == {k: sum(v) for k, v in expected.items()}
    assert {k: sorted(v) for k, v in seen["lists"].items()} == expected
    all_pairs: list[tuple[int, int]] = []
    for parts in seen["partitioned"]:
        assert len(parts) == 3
        for index, part in enumerate(parts):
            assert all((k // 10) % 3 == index for k, _ in part)
            all_pairs.extend(part)
    assert sorted(all_pairs) == sorted(pairs_expected())
    sorted_pairs: list[tuple[int, int]] = []
    for parts in seen["sorted"]:
        check_ranges(parts, descending=True)
        sorted_pairs.extend(pair for part in parts for pair in part)
    assert sorted(sorted_pairs) == sorted(pairs_expected())
    one_pairs: list[tuple[int, int]] = []
    for collected in seen["one"]:
        assert [k for k, _ in collected] == sorted(k for k, _ in collected)
        one_pairs.extend(collected)
    assert sorted(one_pairs) == sorted(pairs_expected())
