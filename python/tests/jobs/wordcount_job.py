"""The word count the crash tests kill and restart: SQLite sink + checkpoint, as the example.
With STATE=1 it keeps running totals with update_state_by_key and writes them as they are
(the table holds the state after the last committed batch).

Prints `engine <pid>` at start, `batch <id> <records> <outcome> workers <pids>` after each
batch, and `done` when the stored offsets reach the topic's end offsets. With KILL_MARKER
set, the worker that meets offset 5000 of partition 1 first kills itself (once: the marker
file remembers), so a task dies mid-partition and must be retried on another worker.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import sys

from sluice import KafkaAdmin, KafkaUtils, SqlSink, StreamingContext

brokers = os.environ["KAFKA_BOOTSTRAP"].split(",")
topic = os.environ["TOPIC"]
database = os.environ["SQLITE"]
kill_marker = os.environ.get("KILL_MARKER")

with sqlite3.connect(database) as db:
    db.execute("CREATE TABLE IF NOT EXISTS word_counts (word TEXT PRIMARY KEY, count INTEGER NOT NULL)")
end = KafkaAdmin(brokers).end_offsets(topic)
sink = SqlSink("crash-wc", sqlite=database, tables=["word_counts"])
ssc = StreamingContext("crash-wc", 0.5, os.environ["CHECKPOINT"], workers=2)
print(f"engine {ssc.engine.pid}", flush=True)
stream = KafkaUtils.create_direct_stream(
    ssc,
    brokers,
    [topic],
    starting_offsets=sink,
    value_deserializer="string",
    max_rate_per_partition=int(os.environ.get("RATE", "4000")),
)


def words(record):
    if kill_marker and record.partition == 1 and record.offset == 5000 and not os.path.exists(kill_marker):
        open(kill_marker, "w").close()
        os.kill(os.getpid(), signal.SIGKILL)
    return record.value.split()


def save(rdd, batch):
    rows = [{"word": w, "count": c} for w, c in rdd.collect()]
    outcome = sink.write_batch(batch, lambda tx: tx.upsert("word_counts", ["word"], rows, add=["count"]))
    workers = ssc.engine.call("engine.info")["workers"]
    print(f"batch {batch.id} {batch.records} {outcome} workers {','.join(map(str, workers))}", flush=True)
    stored = sink.stored_offsets().get(topic, {})
    if all(stored.get(p, 0) >= offset for p, offset in end.items()):
        ssc.stop()


def total(new, old):
    return (old or 0) + sum(new)


pairs = stream.flat_map(words).map(lambda w: (w, 1))
if os.environ.get("STATE") == "1":
    totals = pairs.update_state_by_key(total, 3, name="totals", checkpoint_interval=3)

    def save_totals(rdd, batch):
        rows = [{"word": w, "count": c} for w, c in rdd.collect()]
        outcome = sink.write_batch(batch, lambda tx: tx.upsert("word_counts", ["word"], rows))
        print(f"batch {batch.id} {batch.records} {outcome} workers -", flush=True)
        stored = sink.stored_offsets().get(topic, {})
        if all(stored.get(p, 0) >= offset for p, offset in end.items()):
            ssc.stop()

    totals.foreach_batch(save_totals)
else:
    pairs.reduce_by_key(lambda a, b: a + b).foreach_batch(save)
ssc.start()
ssc.await_termination()
print("done", flush=True)
sys.exit(0)
