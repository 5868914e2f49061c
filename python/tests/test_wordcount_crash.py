"""A Python word count over 200,000 records into SQLite, killed (SIGKILL) as a driver, as a
worker and as the engine at random moments, ends with exact counts."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from helpers import read_counts

pytestmark = pytest.mark.kafka  # the run's broker (KAFKA_BOOTSTRAP)

JOB = Path(__file__).parent / "jobs" / "wordcount_job.py"
VOCABULARY = [f"w{i}" for i in range(300)]


class Job:
    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(JOB)],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.engine = int(self.read_until("engine ").split()[1])
        self.batches: list[str] = []

    def read_until(self, prefix: str) -> str:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("batch "):
                self.batches.append(line)
            if line.startswith(prefix):
                return line
        raise AssertionError(f"the job exited ({self.process.wait()}) before printing {prefix!r}: {self.stderr()}")

    def workers(self) -> list[int]:
        return [int(p) for p in self.read_until("batch ").split()[-1].split(",") if p]

    def stderr(self) -> str:
        assert self.process.stderr is not None
        return self.process.stderr.read()


def gone(pid: int, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        # A zombie of an orphan: reaped by init soon; /proc tells it is dead.
        try:
            if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
                return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def test_word_count_survives_sigkill_of_driver_worker_and_engine(admin, new_topic, brokers, tmp_path) -> None:
    rng = random.Random(7)
    topic = new_topic(partitions=4)
    text = [" ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(1, 6))) for _ in range(200_000)]
    admin.produce(topic, ({"value": line, "partition": i % 4} for i, line in enumerate(text)))
    expected = Counter(word for line in text for word in line.split())
    env = {
        "KAFKA_BOOTSTRAP": ",".join(brokers),
        "TOPIC": topic,
        "SQLITE": str(tmp_path / "counts.db"),
        "CHECKPOINT": str(tmp_path / "checkpoint"),
        "KILL_MARKER": str(tmp_path / "worker-killed-itself"),
    }

    # 1. The driver dies: its engine sees the channel close, stops uncommitted and exits.
    job = Job(env)
    job.read_until("batch ")
    time.sleep(rng.uniform(0, 0.6))
    job.process.send_signal(signal.SIGKILL)
    job.process.wait()
    assert gone(job.engine), "the engine outlived its driver"

    # 2. Workers die: one kills itself mid-task (KILL_MARKER), one is killed from outside.
    job = Job(env)
    for _ in range(20):
        victim = rng.choice(job.workers())
        time.sleep(rng.uniform(0, 0.6))
        try:
            os.kill(victim, signal.SIGKILL)
            break
        except ProcessLookupError:
            continue  # it was the worker that killed itself: take one of the next batch's
    else:
        raise AssertionError("no live worker to kill from outside in 20 batches")
    job.read_until("batch ")
    job.read_until("batch ")
    assert (tmp_path / "worker-killed-itself").exists(), "the job never reached the record that kills its worker"

    # 3. The engine dies: the driver's await_termination raises and the driver exits with an error.
    time.sleep(rng.uniform(0, 0.6))
    os.kill(job.engine, signal.SIGKILL)
    assert job.process.wait(timeout=60) != 0
    assert "the sluice engine" in job.stderr()
    assert job.batches, "no batch ran before the engine was killed"

    # 4. A last run finishes the topic; every word was counted exactly once.
    job = Job(env)
    job.read_until("done")
    assert job.process.wait(timeout=60) == 0
    assert read_counts(tmp_path / "counts.db") == dict(expected)
