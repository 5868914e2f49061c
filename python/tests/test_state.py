"""update_state_by_key keeps exact per-key state across SIGKILLs of the driver and the engine."""

from __future__ import annotations

import os
import random
import signal
import time
from collections import Counter

import pytest

from helpers import read_counts
from test_wordcount_crash import VOCABULARY, Job, gone

pytestmark = pytest.mark.kafka  # the run's broker (KAFKA_BOOTSTRAP)


def test_running_totals_are_exact_after_kills(admin, new_topic, brokers, tmp_path) -> None:
    rng = random.Random(11)
    topic = new_topic(partitions=4)
    text = [" ".join(rng.choice(VOCABULARY[:50]) for _ in range(rng.randint(1, 4))) for _ in range(60_000)]
    admin.produce(topic, ({"value": line, "partition": i % 4} for i, line in enumerate(text)))
    expected = Counter(word for line in text for word in line.split())
    env = {
        "KAFKA_BOOTSTRAP": ",".join(brokers),
        "TOPIC": topic,
        "SQLITE": str(tmp_path / "totals.db"),
        "CHECKPOINT": str(tmp_path / "checkpoint"),
        "STATE": "1",
        # 4,000 records a batch: 15 batches, so neither run before the last can reach the end.
        "RATE": "2000",
    }
    job = Job(env)
    for _ in range(rng.randint(2, 4)):
        job.read_until("batch ")
    time.sleep(rng.uniform(0, 0.5))
    job.process.send_signal(signal.SIGKILL)
    job.process.wait()
    assert gone(job.engine)

    job = Job(env)
    for _ in range(rng.randint(2, 4)):
        job.read_until("batch ")
    time.sleep(rng.uniform(0, 0.5))
    os.kill(job.engine, signal.SIGKILL)
    assert job.process.wait(timeout=60) != 0

    job = Job(env)
    job.read_until("done")
    assert job.process.wait(timeout=60) == 0
    assert read_counts(tmp_path / "totals.db") == dict(expected)
    snapshots = list((tmp_path / "checkpoint" / "state" / "totals").iterdir())
    assert snapshots, "the state was never snapshotted"
    assert not any(b"cloudpickle" in path.read_bytes() for path in snapshots if path.is_file())
