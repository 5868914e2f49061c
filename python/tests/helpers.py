"""Helpers the tests share: the word counts table in SQLite, and running a stream until a condition holds."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Callable

from sluice import StreamingContext


def counts_table(path: Path) -> Path:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE IF NOT EXISTS word_counts (word TEXT PRIMARY KEY, count INTEGER NOT NULL)")
    return path


def read_counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT word, count FROM word_counts").fetchall())


def run_until(ssc: StreamingContext, done: Callable[[], bool], timeout: float = 90) -> None:
    """Starts ``ssc``, waits for ``done()``, stops it gracefully and surfaces its failure, if any."""
    ssc.start()
    deadline = time.monotonic() + timeout
    while not done():
        if ssc.await_termination(timeout=0.2):
            break
        assert time.monotonic() < deadline, "the stream did not reach the expected state in time"
    ssc.stop()
    ssc.await_termination(timeout=60)
