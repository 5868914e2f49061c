"""Streams defined in Python with exact results: Kafka and file sinks through ``tx.send`` and
``tx.write`` (exactly once across a restart), and the per-batch operations count, transform
(a join with a create_rdd table) and map_with_state."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import pytest

from helpers import run_until
from sluice import FileSink, KafkaSink, KafkaUtils, StateSpec, StreamingContext, create_rdd

pytestmark = pytest.mark.kafka  # the run's broker (KAFKA_BOOTSTRAP)


def test_kafka_and_file_sinks_write_each_batch_once_across_a_restart(admin, new_topic, brokers, tmp_path) -> None:
    source = new_topic(partitions=2)
    out = new_topic()
    files = tmp_path / "files"
    first = [f"a{i % 3} b{i % 2}" for i in range(30)]
    admin.produce(source, [{"value": v, "partition": i % 2} for i, v in enumerate(first)])

    def run(lines_expected: int) -> None:
        kafka_sink = KafkaSink("py-sinks", brokers, topics=[out])
        file_sink = FileSink("py-sinks", str(files))
        ssc = StreamingContext("py-sinks", 0.2, str(tmp_path / "ckpt"))
        lines = KafkaUtils.create_direct_stream(
            ssc, brokers, [source], starting_offsets=kafka_sink, value_deserializer="string"
        )
        seen = {"lines": 0}
        lock = threading.Lock()

        def save(rdd: Any, batch: Any) -> None:
            counts = sorted(rdd.collect())
            kafka_sink.write_batch(
                batch, lambda tx: tx.send([{"topic": out, "key": w, "value": str(c)} for w, c in counts])
            )
            file_sink.write_batch(batch, lambda tx: [tx.write({"word": w, "count": c}) for w, c in counts])
            with lock:
                seen["lines"] += batch.records

        lines.flat_map(lambda r: r.value.split()).map(lambda w: (w, 1)).reduce_by_key(lambda a, b: a + b).foreach_batch(
            save
        )
        run_until(ssc, lambda: seen["lines"] >= lines_expected)
        kafka_sink.close()
        file_sink.close()

    run(30)
    second = [f"a{i % 3} c{i % 4}" for i in range(20)]
    admin.produce(source, [{"value": v, "partition": i % 2} for i, v in enumerate(second)])
    run(20)  # resumes from the offsets the Kafka sink committed with its last transaction

    expected = Counter(w for line in first + second for w in line.split())
    end = admin.end_offsets(out)[0]
    sent: Counter[str] = Counter()
    for record in create_rdd(brokers, [(out, 0, 0, end)], key_deserializer="string", value_deserializer="string").collect():
        sent[record.key] += int(record.value)
    assert sent == expected

    written: Counter[str] = Counter()
    for path in sorted(Path(files).glob("*.jsonl")):
        for line in path.read_text().splitlines():
            row = json.loads(line)
            written[row["word"]] += row["count"]
    assert written == expected


def test_count_transform_join_and_map_with_state_per_batch(admin, new_topic, brokers, tmp_path) -> None:
    source = new_topic()
    names_topic = new_topic()
    admin.produce(names_topic, [{"key": f"k{i}", "value": f"name{i}"} for i in range(3)])
    names = create_rdd(brokers, [(names_topic, 0, 0, 3)], key_deserializer="string", value_deserializer="string").map(
        lambda r: (r.key, r.value)
    )
    keys = [f"k{i % 4}" for i in range(40)]
    admin.produce(source, keys)

    ssc = StreamingContext("py-ops", 0.2, str(tmp_path / "ckpt"))
    stream = KafkaUtils.create_direct_stream(ssc, brokers, [source], starting_offsets="earliest", value_deserializer="string")
    pairs = stream.map(lambda r: (r.value, 1))
    results: dict[str, Any] = {"count": 0, "joined": Counter(), "emitted": [], "totals": {}}
    lock = threading.Lock()

    def running_total(key: str, value: int | None, state: Any) -> tuple[str, int]:
        total = state.get_option(0) + (value or 0)
        state.update(total)
        return (key, total)

    tracked = pairs.map_with_state(StateSpec(running_total))

    def on_count(rdd: Any) -> None:
        with lock:
            results["count"] += sum(rdd.collect())

    def on_joined(rdd: Any) -> None:
        with lock:
            results["joined"].update(rdd.collect())

    def on_emitted(rdd: Any) -> None:
        with lock:
            results["emitted"].extend(rdd.collect())

    def on_snapshot(rdd: Any) -> None:
        with lock:
            results["totals"] = dict(rdd.collect())

    stream.count().foreach_batch(on_count)
    pairs.transform(lambda rdd: rdd.join(names).map(lambda kv: (kv[0], kv[1][1]))).foreach_batch(on_joined)
    tracked.foreach_batch(on_emitted)
    tracked.state_snapshots().foreach_batch(on_snapshot)
    run_until(ssc, lambda: results["count"] >= 40 and len(results["emitted"]) >= 40)

    assert results["count"] == 40
    # k3 has no name: the inner join drops it; each of k0..k2 is joined once per record.
    assert results["joined"] == Counter({("k0", "name0"): 10, ("k1", "name1"): 10, ("k2", "name2"): 10})
    # One emission per record, each key's totals rising 1..10 in the batches' order.
    by_key: dict[str, list[int]] = {}
    for key, total in results["emitted"]:
        by_key.setdefault(key, []).append(total)
    assert {k: sorted(v) for k, v in by_key.items()} == {f"k{i}": list(range(1, 11)) for i in range(4)}
    assert results["totals"] == {f"k{i}": 10 for i in range(4)}


def test_incremental_windows_equal_windows_recomputed_from_their_batches(admin, new_topic, brokers, tmp_path) -> None:
    source = new_topic(partitions=2)
    ssc = StreamingContext("py-windows", 0.2, str(tmp_path / "ckpt"))
    stream = KafkaUtils.create_direct_stream(ssc, brokers, [source], starting_offsets="earliest", value_deserializer="string")
    words = stream.flat_map(lambda r: r.value.split())
    pairs = words.map(lambda w: (w, 1))
    per_batch: dict[str, dict[int, Any]] = {
        name: {} for name in ("records", "incremental", "recomputed", "by_value", "count", "window_count", "reduced")
    }
    lock = threading.Lock()

    def keep(name: str, as_dict: bool) -> Callable[[Any, Any], None]:
        def save(rdd: Any, batch: Any) -> None:
            items = rdd.collect()
            with lock:
                per_batch[name][batch.time] = dict(items) if as_dict else items

        return save

    def add(a: int, b: int) -> int:
        return a + b

    def sub(a: int, b: int) -> int:
        return a - b

    stream.count().foreach_batch(keep("records", False))
    pairs.reduce_by_key_and_window(add, sub, 0.6, 0.2, filter_func=lambda kv: kv[1] > 0).foreach_batch(
        keep("incremental", True)
    )
    pairs.reduce_by_key_and_window(add, None, 0.6, 0.2).foreach_batch(keep("recomputed", True))
    words.count_by_value_and_window(0.6, 0.2).foreach_batch(keep("by_value", True))
    words.count_by_window(0.6, 0.2).foreach_batch(keep("count", False))
    words.window(0.6, 0.2).count().foreach_batch(keep("window_count", False))
    words.map(len).reduce_by_window(add, sub, 0.6, 0.2).foreach_batch(keep("reduced", False))

    ssc.start()
    lines = [f"a{i % 3} b{i % 5}" for i in range(60)]
    for start in range(0, 60, 10):  # a few rounds, so windows slide over batches with data
        admin.produce(source, [{"value": v, "partition": i % 2} for i, v in enumerate(lines[start : start + 10])])
        time.sleep(0.3)
    deadline = time.monotonic() + 90
    while True:
        with lock:
            total = sum(c for counts in per_batch["records"].values() for c in counts)
            times = sorted(per_batch["records"])
            # Done when every record arrived and three empty batches later every window is empty.
            drained = total == 60 and len(times) >= 3 and all(per_batch["records"][t] == [0] for t in times[-3:])
            drained = drained and all(t in per_batch[name] for name in per_batch for t in times)
        if drained:
            break
        assert not ssc.await_termination(timeout=0.2) and time.monotonic() < deadline
    ssc.stop()
    ssc.await_termination(timeout=60)

    records = {t: (c[0] if c else 0) for t, c in per_batch["records"].items()}
    times = sorted(records)
    step = 200
    for t in times:
        in_window = [records.get(t - k * step, 0) for k in range(3)]
        words_in_window = 2 * sum(in_window)
        assert per_batch["incremental"][t] == per_batch["recomputed"][t], f"window ending at batch {t}"
        assert per_batch["by_value"][t] == per_batch["recomputed"][t]
        assert sum(per_batch["recomputed"][t].values()) == words_in_window
        assert per_batch["window_count"][t] == [words_in_window]
        # As in Spark, the incremental count_by_window/reduce_by_window keep a window that
        # emptied at 0: nothing before the first data, 0 after the data left the window.
        seen_data = any(records[u] for u in times if u <= t)
        assert per_batch["count"][t] == ([words_in_window] if seen_data else [])
        assert per_batch["reduced"][t] == ([2 * words_in_window] if seen_data else [])
    assert sum(records.values()) == 60 and per_batch["incremental"][times[-1]] == {}


def test_the_seed_s_create_direct_stream_gives_key_value_tuples(admin, new_topic, brokers, tmp_path) -> None:
    topic = new_topic()
    admin.produce(topic, [{"key": f"k{i}", "value": f"v{i}"} for i in range(5)])
    ssc = StreamingContext("py-seed", 0.2, str(tmp_path / "ckpt"))
    kafka_stream = KafkaUtils.createDirectStream(
        ssc, [topic], {"metadata.broker.list": ",".join(brokers), "auto.offset.reset": "smallest"}
    )
    seen: list[Any] = []
    pairs: list[Any] = []
    kafka_stream.foreach_rdd(lambda rdd: pairs.extend(rdd.collect()))
    kafka_stream.map(lambda x: x[1]).foreach_rdd(lambda rdd: seen.extend(rdd.collect()))
    run_until(ssc, lambda: len(seen) >= 5 and len(pairs) >= 5)
    assert seen == [f"v{i}" for i in range(5)]
    assert pairs == [(f"k{i}", f"v{i}") for i in range(5)]
