"""Failures reach the user with the Python traceback and the data's coordinates."""

from __future__ import annotations

import sqlite3

import pytest

from sluice import KafkaUtils, SluiceError, SqlSink, StreamingContext, create_rdd

from helpers import counts_table, read_counts

pytestmark = pytest.mark.kafka  # the run's broker (KAFKA_BOOTSTRAP)


def explode(record):  # a named function, so the traceback names it
    return record.offset // (record.offset - record.offset)


def test_a_python_exception_in_a_worker_fails_the_task_with_its_traceback_and_range(admin, new_topic, brokers) -> None:
    topic = new_topic()
    admin.produce(topic, [f"line {i}" for i in range(10)])
    rdd = create_rdd(brokers, [(topic, 0, 0, 10)]).map(explode)
    with pytest.raises(SluiceError) as raised:
        rdd.collect()
    error = raised.value
    assert error.code == "SLUICE_TASK_FAILED"
    text = str(error)
    assert "ZeroDivisionError" in text
    assert "in explode" in text and "test_errors.py" in text
    assert "return record.offset // (record.offset - record.offset)" in text
    assert f"offset range {topic}-0 [0, 10)" in text
    assert "failed after 4 attempts" in text


def test_a_deserializer_that_raises_names_the_record_and_is_not_retried(admin, new_topic, brokers) -> None:
    topic = new_topic()
    admin.produce(topic, ["ok", "ok", "bad"])

    def strict(payload: bytes) -> str:
        if payload == b"bad":
            raise ValueError("not a word")
        return payload.decode()

    with pytest.raises(SluiceError) as raised:
        create_rdd(brokers, [(topic, 0, 0, 3)], value_deserializer=strict).collect()
    text = str(raised.value)
    assert f"the value deserializer failed on {topic}-0 offset 2: ValueError: not a word" in text
    assert "is not retried" in text


def test_a_failing_batch_stops_the_stream_with_the_traceback_and_commits_nothing(admin, new_topic, brokers, tmp_path) -> None:
    topic = new_topic()
    admin.produce(topic, ["a b", "c d", "boom"])
    db = counts_table(tmp_path / "counts.db")
    sink = SqlSink("errors", sqlite=str(db), tables=["word_counts"])
    ssc = StreamingContext("errors", 0.2, str(tmp_path / "ckpt"), max_task_attempts=1)
    lines = KafkaUtils.create_direct_stream(ssc, brokers, [topic], starting_offsets="earliest", value_deserializer="string")

    def words(record):
        if record.value == "boom":
            raise RuntimeError(f"cannot split {record.value!r}")
        return record.value.split()

    def save(rdd, batch):
        rows = [{"word": w, "count": c} for w, c in rdd.collect()]
        sink.write_batch(batch, lambda tx: tx.upsert("word_counts", ["word"], rows, add=["count"]))

    lines.flat_map(words).map(lambda w: (w, 1)).reduce_by_key(lambda a, b: a + b).foreach_batch(save)
    ssc.start()
    with pytest.raises(SluiceError) as raised:
        ssc.await_termination(timeout=60)
    text = str(raised.value)
    assert raised.value.code == "SLUICE_BATCH_FAILED"
    assert "batch 0" in text and "RuntimeError: cannot split 'boom'" in text and "in words" in text
    assert f"{topic}-0 [0, 3)" in text
    assert read_counts(db) == {}
    assert sink.stored_offsets() == {}
    sink.close()


def test_a_foreach_batch_function_that_raises_fails_its_batch_with_the_driver_traceback(admin, new_topic, brokers, tmp_path) -> None:
    topic = new_topic()
    admin.produce(topic, ["x"])
    ssc = StreamingContext("driver-error", 0.2)
    stream = KafkaUtils.create_direct_stream(ssc, brokers, [topic], starting_offsets="earliest")

    def check(rdd, batch):
        if rdd.count() > 0:
            raise KeyError("missing-table")

    stream.foreach_batch(check)
    ssc.start()
    with pytest.raises(SluiceError) as raised:
        ssc.await_termination(timeout=60)
    text = str(raised.value)
    assert "KeyError: 'missing-table'" in text and "in check" in text and "output operation #1" in text


def test_functions_that_cannot_travel_and_bad_options_fail_at_definition_or_start(brokers, tmp_path) -> None:
    connection = sqlite3.connect(":memory:")
    ssc = StreamingContext("bad-options", 1.0)
    stream = KafkaUtils.create_direct_stream(ssc, brokers, ["t"], max_rate_per_partition=-5)
    with pytest.raises(TypeError, match="map's fn cannot be sent to the workers"):
        stream.map(lambda r: connection.execute("select 1"))
    stream.foreach_batch(lambda rdd, batch: None)
    with pytest.raises(SluiceError, match="option 'max_rate_per_partition'"):
        ssc.start()
    with pytest.raises(ValueError, match="batch_interval must be a positive number of seconds"):
        StreamingContext("x", 0)
    with pytest.raises(ValueError, match="give exactly one of topics, topic_pattern or assign"):
        KafkaUtils.create_direct_stream(StreamingContext("y", 1.0), brokers)


def test_a_misspelt_record_field_is_refused_naming_it_and_nothing_is_written(admin, new_topic) -> None:
    topic = new_topic()
    with pytest.raises(SluiceError) as raised:
        admin.produce(topic, [{"value": "kept"}, {"vaule": "lost?"}])
    assert raised.value.code == "SLUICE_INVALID_ARGUMENT"
    assert "record 1" in str(raised.value)
    assert "unknown field 'vaule'; did you mean 'value'?" in str(raised.value)
    assert admin.end_offsets(topic) == {0: 0}
