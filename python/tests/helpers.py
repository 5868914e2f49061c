"""Helpers the tests share: the word counts table in SQLite."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def counts_table(path: Path) -> Path:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE IF NOT EXISTS word_counts (word TEXT PRIMARY KEY, count INTEGER NOT NULL)")
    return path


def read_counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT word, count FROM word_counts").fetchall())
