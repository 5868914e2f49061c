"""Word count over a Kafka topic, written in Python, exactly once into SQLite.

    pip install ./python
    npx sluice kafka start            # a local broker; prints bootstrap=127.0.0.1:<port>
    KAFKA_BOOTSTRAP=127.0.0.1:<port> python examples/wordcount.py

The first run creates the topic (4 partitions) and writes 200,000 lines to it; every run
counts the words it has not counted yet into `word_counts` in wordcount.db. Each batch's
counts and its Kafka offsets are written in ONE SQLite transaction by the sink, and the
stream starts where the stored offsets end, so a run killed at any moment (Ctrl-C, kill -9)
and started again carries on exactly: no word is lost or counted twice. When the counts
cover the whole topic the job stops and checks them against the text it wrote.

Settings (environment): KAFKA_BOOTSTRAP (127.0.0.1:9092), TOPIC (words), SQLITE
(wordcount.db), CHECKPOINT (wordcount-checkpoint), LINES (200000), BATCH_INTERVAL (1.0 s),
MAX_RATE (records/s per partition, 0 = no limit).
"""

from __future__ import annotations

import os
import random
import sqlite3
import sys
from collections import Counter
from typing import Iterator

from sluice import Batch, KafkaAdmin, KafkaUtils, RDD, SqlSink, StreamingContext

VOCABULARY = [f"w{i}" for i in range(500)]


def lines(count: int, seed: int = 42) -> Iterator[str]:
    """The text the example writes: deterministic, so the counts can be checked."""
    rng = random.Random(seed)
    for _ in range(count):
        yield " ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(6, 12)))


def words_of(line: str | None) -> list[str]:
    return (line or "").split()


def ensure_input(admin: KafkaAdmin, topic: str, count: int) -> None:
    """Creates the topic with `count` lines the first time; later runs reuse it."""
    try:
        admin.create_topic(topic, partitions=4)
    except Exception as error:  # noqa: BLE001 - an existing topic is fine
        if "already exists" not in str(error).lower().replace("_", " "):  # TOPIC_ALREADY_EXISTS
            raise
        return
    print(f"writing {count:,} lines to '{topic}'", flush=True)
    admin.produce(topic, ({"value": line, "partition": i % 4} for i, line in enumerate(lines(count))))


def ensure_table(path: str) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE IF NOT EXISTS word_counts (word TEXT PRIMARY KEY, count INTEGER NOT NULL)")


def main() -> int:
    brokers = os.environ.get("KAFKA_BOOTSTRAP", "127.0.0.1:9092").split(",")
    topic = os.environ.get("TOPIC", "words")
    database = os.environ.get("SQLITE", "wordcount.db")
    line_count = int(os.environ.get("LINES", "200000"))
    admin = KafkaAdmin(brokers)
    ensure_input(admin, topic, line_count)
    ensure_table(database)
    end = admin.end_offsets(topic)

    sink = SqlSink("wordcount", sqlite=database, tables=["word_counts"])
    ssc = StreamingContext(
        "wordcount", float(os.environ.get("BATCH_INTERVAL", "1.0")), os.environ.get("CHECKPOINT", "wordcount-checkpoint")
    )
    stream = KafkaUtils.create_direct_stream(
        ssc,
        brokers,
        [topic],
        starting_offsets=sink,  # where the last committed batch ended (the checkpoint, when it has a position, wins)
        value_deserializer="string",
        max_rate_per_partition=float(os.environ.get("MAX_RATE", "0")) or None,
    )
    counts = stream.flat_map(lambda record: words_of(record.value)).map(lambda word: (word, 1)).reduce_by_key(
        lambda a, b: a + b
    )

    def save(rdd: RDD[tuple[str, int]], batch: Batch) -> None:
        rows = [{"word": word, "count": count} for word, count in rdd.collect()]
        outcome = sink.write_batch(batch, lambda tx: tx.upsert("word_counts", ["word"], rows, add=["count"]))
        print(f"batch {batch.id}: {batch.records} records, {len(rows)} words, {outcome}", flush=True)
        stored = sink.stored_offsets().get(topic, {})
        if all(stored.get(p, 0) >= offset for p, offset in end.items()):
            ssc.stop(graceful=True)  # from inside a batch: the job stops once this batch commits

    counts.foreach_batch(save)
    ssc.start()
    ssc.await_termination()
    sink.close()
    with sqlite3.connect(database) as db:
        stored = Counter(dict(db.execute("SELECT word, count FROM word_counts").fetchall()))
    expected = Counter(word for line in lines(line_count) for word in words_of(line))
    if stored != expected:
        print(f"MISMATCH: {sum(stored.values()):,} words stored, {sum(expected.values()):,} in the text", file=sys.stderr)
        return 1
    print(f"exact: {sum(stored.values()):,} words, {len(stored)} distinct, as in the text", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
