"""create_rdd over explicit ranges: exactly the records from <= offset < until, decoded as asked."""

from __future__ import annotations

import json

import pytest

from sluice import KafkaAdmin, KafkaUtils, OffsetRange, SluiceError, create_rdd

pytestmark = pytest.mark.kafka  # the run's broker (KAFKA_BOOTSTRAP)


def produce_numbered(admin: KafkaAdmin, topic: str, count: int, partitions: int) -> None:
    admin.produce(topic, [{"key": f"k{i}", "value": f"v{i}", "partition": i % partitions} for i in range(count)])


def test_exactly_the_records_of_each_range_in_partition_order(admin, new_topic, brokers) -> None:
    topic = new_topic(partitions=3)
    produce_numbered(admin, topic, 3000, 3)
    ranges = [OffsetRange.create(topic, 0, 0, 1000), OffsetRange.create(topic, 1, 250, 251), OffsetRange.create(topic, 2, 998, 1000)]
    rdd = create_rdd(brokers, ranges, key_deserializer="string", value_deserializer="string")
    records = rdd.collect()
    assert [(r.partition, r.offset) for r in records] == (
        [(0, o) for o in range(1000)] + [(1, 250)] + [(2, 998), (2, 999)]
    )
    # Record i went to partition i % 3 at offset i // 3.
    assert all(r.value == f"v{r.offset * 3 + r.partition}" and r.key == f"k{r.offset * 3 + r.partition}" for r in records)
    assert all(r.topic == topic and r.timestamp > 0 and r.headers == () for r in records)
    assert rdd.count() == 1003
    assert rdd.offset_ranges == tuple(ranges)


def test_count_take_first_and_empty_ranges(admin, new_topic, brokers) -> None:
    topic = new_topic(partitions=2)
    produce_numbered(admin, topic, 100, 2)
    rdd = create_rdd(brokers, [(topic, 0, 10, 10), (topic, 1, 5, 45)], value_deserializer="string")
    assert rdd.count() == 40
    assert [r.value for r in rdd.take(3)] == ["v11", "v13", "v15"]
    assert rdd.first().offset == 5
    assert not rdd.is_empty()
    assert create_rdd(brokers, [(topic, 0, 7, 7)]).collect() == []
    assert create_rdd(brokers, [(topic, 0, 7, 7)]).is_empty()


def test_bytes_by_default_json_in_the_engine_and_python_deserializers_in_the_workers(admin, new_topic, brokers) -> None:
    topic = new_topic()
    admin.produce(topic, [{"key": "a", "value": json.dumps({"n": i, "tags": ["x", i]})} for i in range(5)])
    raw = create_rdd(brokers, [(topic, 0, 0, 5)]).collect()
    assert raw[0].key == b"a" and json.loads(raw[0].value) == {"n": 0, "tags": ["x", 0]}
    parsed = create_rdd(brokers, [(topic, 0, 0, 5)], value_deserializer="json").map(lambda r: r.value["n"]).collect()
    assert parsed == [0, 1, 2, 3, 4]
    custom = create_rdd(brokers, [(topic, 0, 1, 3)], key_deserializer=lambda b: b.upper(), value_deserializer=json.loads)
    assert [(r.key, r.value["tags"]) for r in custom.collect()] == [(b"A", ["x", 1]), (b"A", ["x", 2])]


def test_operations_shuffles_and_actions_over_a_range(admin, new_topic, brokers) -> None:
    topic = new_topic(partitions=2)
    admin.produce(topic, [{"value": f"to be or not to be {i % 3}", "partition": i % 2} for i in range(600)])
    lines = create_rdd(brokers, [(topic, 0, 0, 300), (topic, 1, 0, 300)], value_deserializer="string")
    words = lines.flat_map(lambda r: r.value.split())
    counts = dict(words.map(lambda w: (w, 1)).reduce_by_key(lambda a, b: a + b, num_partitions=3).collect())
    assert counts == {"to": 1200, "be": 1200, "or": 600, "not": 600, "0": 200, "1": 200, "2": 200}
    assert words.count_by_value() == counts
    assert words.filter(lambda w: w == "or").count() == 600
    assert lines.map(lambda r: 1).reduce(lambda a, b: a + b) == 600
    grouped = dict(words.map(lambda w: (len(w), w)).group_by_key().collect())
    assert sorted(grouped) == [1, 2, 3] and len(grouped[2]) == 3000
    assert words.map(lambda w: len(w)).sum() == (2 + 2 + 2 + 3 + 2 + 2 + 1) * 600
    pairs = words.map(lambda w: (w, 1))
    means = dict(
        pairs.combine_by_key(lambda v: (v, 1), lambda c, v: (c[0] + v, c[1] + 1), lambda a, b: (a[0] + b[0], a[1] + b[1])).collect()
    )
    assert means["to"] == (1200, 1200)
    both = lines.map(lambda r: r.partition).union(lines.map(lambda r: r.partition + 10))
    assert sorted(both.count_by_value().items()) == [(0, 300), (1, 300), (10, 300), (11, 300)]


def test_pyspark_names_give_key_value_tuples(admin, new_topic, brokers) -> None:
    topic = new_topic()
    admin.produce(topic, [("k", "hello world")])
    rdd = KafkaUtils.createRDD(None, {"bootstrap.servers": ",".join(brokers)}, [OffsetRange.create(topic, 0, 0, 1)])
    assert rdd.map(lambda x: x[1]).collect() == ["hello world"]


def test_a_range_beyond_the_log_fails_naming_topic_partition_and_offsets(admin, new_topic, brokers) -> None:
    topic = new_topic()
    produce_numbered(admin, topic, 10, 1)
    with pytest.raises(SluiceError) as raised:
        create_rdd(brokers, [(topic, 0, 5, 50)]).collect()
    assert topic in str(raised.value) and "50" in str(raised.value)


def test_bad_ranges_fail_before_anything_runs(brokers) -> None:
    with pytest.raises(ValueError, match="ends before it starts"):
        OffsetRange.create("t", 0, 10, 5)
    with pytest.raises(ValueError, match="partition must be a non-negative integer"):
        create_rdd(brokers, [("t", -1, 0, 5)])
