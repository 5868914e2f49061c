"""Exactly-once sinks, declared in Python and run by the engine.

A batch's output and its offsets are one transaction: ``sink.write_batch(batch, fn)``
opens the batch's transaction in the engine, ``fn(tx)`` writes through ``tx`` (each call
goes to the engine), and the engine commits the output with the batch's until-offsets —
or, if ``fn`` raises, rolls everything back. A replayed batch the sink already holds is
not written again (``write_batch`` returns ``'already-applied'`` without calling ``fn``).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Literal, Mapping, Sequence, cast

from . import _engine
from ._engine import _error_frame
from .batch import Batch

Outcome = Literal["applied", "already-applied"]


class Transaction:
    """The ``tx`` a write function gets: every call joins the batch's transaction."""

    def __init__(self, engine: _engine.Engine, write_id: int, batch: Batch) -> None:
        self._engine = engine
        self._write = write_id
        self.batch = batch

    def _op(self, op: str, *args: Any) -> Any:
        return self._engine.call("sink.op", {"write": self._write, "op": op, "args": list(args)})


class SqlTransaction(Transaction):
    def upsert(
        self, table: str, key_columns: Sequence[str], rows: Iterable[Mapping[str, Any]], add: Sequence[str] = ()
    ) -> None:
        """Inserts rows; a row whose key exists replaces the other columns, except ``add`` columns, which are summed."""
        self._op("upsert", table, list(key_columns), [dict(r) for r in rows], {"add": list(add)} if add else {})

    def append(self, table: str, rows: Iterable[Mapping[str, Any]]) -> None:
        """Inserts rows."""
        self._op("append", table, [dict(r) for r in rows])

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """One statement with ``$1, $2, ...`` placeholders (PostgreSQL and SQLite alike); its rows."""
        result = self._op("query", sql, list(params))
        return list(result.get("rows", [])) if isinstance(result, dict) else []


class KafkaTransaction(Transaction):
    def send(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Records ``{"topic", "value", "key"?, "partition"?, "headers"?}`` joining the batch's Kafka transaction."""
        self._op("send", [dict(r) for r in records])


class FileTransaction(Transaction):
    def write(self, value: Any) -> None:
        """One JSON line of the batch's file."""
        self._op("write", value)


class Sink:
    """An exactly-once sink in the engine. Created (and checked: connection, tables) at once."""

    _kind = ""
    _transaction: type[Transaction] = Transaction

    def __init__(self, options: dict[str, Any]) -> None:
        self._engine = _engine.get_engine()
        self._id: int = self._engine.call("sink.create", {"kind": self._kind, "options": options})["id"]
        self.app: str = options["app"]

    def write_batch(self, batch: Batch, fn: Callable[[Any], Any]) -> Outcome:
        """Writes ``batch``'s output with ``fn(tx)``, exactly once; call it inside foreach_batch."""
        if not isinstance(batch, Batch):
            raise TypeError(f"write_batch needs the Batch foreach_batch received, got {batch!r}")
        opened = self._engine.call("sink.begin", {"sink": self._id, "batch": batch.id})
        if opened.get("outcome"):
            return cast(Outcome, opened["outcome"])
        tx = self._transaction(self._engine, opened["write"], batch)
        try:
            fn(tx)
        except BaseException as error:
            self._engine.call("sink.end", {"write": opened["write"], "error": _error_frame(error)})
            raise
        return cast(Outcome, self._engine.call("sink.end", {"write": opened["write"]}))

    def close(self) -> None:
        if self._engine.alive:
            self._engine.call("sink.close", {"sink": self._id})


class OffsetStoringSink(Sink):
    def stored_offsets(self) -> dict[str, dict[int, int]]:
        """The until-offsets of the last batch written, ``{topic: {partition: offset}}``.
        Pass the sink itself as ``starting_offsets`` to resume a stream from them."""
        raw = self._engine.call("sink.stored_offsets", {"sink": self._id})
        return {topic: {int(p): int(o) for p, o in parts.items()} for topic, parts in raw.items()}


class SqlSink(OffsetStoringSink):
    """Rows in SQLite or PostgreSQL, with the batch's offsets in the same transaction
    (table ``sluice_offsets`` by default)."""

    _kind = "sql"
    _transaction = SqlTransaction

    def __init__(
        self,
        app: str,
        *,
        sqlite: str | None = None,
        postgres: str | None = None,
        tables: Sequence[str] = (),
        offsets_table: str | None = None,
        busy_timeout_ms: int | None = None,
        max_connections: int | None = None,
    ) -> None:
        if (sqlite is None) == (postgres is None):
            raise ValueError("give exactly one of sqlite (a file path) or postgres (a connection string)")
        options: dict[str, Any] = {"app": app, "tables": list(tables)}
        if sqlite is not None:
            options["sqlite"] = {"path": sqlite, **({"busyTimeoutMs": busy_timeout_ms} if busy_timeout_ms else {})}
        else:
            options["postgres"] = {
                "connectionString": postgres,
                **({"maxConnections": max_connections} if max_connections else {}),
            }
        if offsets_table is not None:
            options["offsetsTable"] = offsets_table
        super().__init__(options)


class KafkaSink(OffsetStoringSink):
    """Records in Kafka topics, in one Kafka transaction per batch that also commits the
    batch's offsets to the group ``sluice-<app>``."""

    _kind = "kafka"
    _transaction = KafkaTransaction

    def __init__(
        self,
        app: str,
        brokers: Iterable[str] | str,
        *,
        topics: Sequence[str] = (),
        transactional_id: str | None = None,
        group_id: str | None = None,
        transaction_timeout_ms: int | None = None,
    ) -> None:
        if isinstance(brokers, str):
            brokers = [b for b in brokers.split(",") if b]
        options: dict[str, Any] = {"app": app, "brokers": list(brokers), "topics": list(topics)}
        for key, value in (
            ("transactionalId", transactional_id),
            ("groupId", group_id),
            ("transactionTimeoutMs", transaction_timeout_ms),
        ):
            if value is not None:
                options[key] = value
        super().__init__(options)


class FileSink(Sink):
    """Batch N's output as ``<dir>/<N>.jsonl``, replaced whole on a re-run (needs the checkpoint)."""

    _kind = "file"
    _transaction = FileTransaction

    def __init__(self, app: str, dir: str) -> None:  # noqa: A002 - the TypeScript option's name
        super().__init__({"app": app, "dir": dir})


def create_sql_sink(app: str, **options: Any) -> SqlSink:
    return SqlSink(app, **options)


def create_kafka_sink(app: str, brokers: Iterable[str] | str, **options: Any) -> KafkaSink:
    return KafkaSink(app, brokers, **options)


def create_file_sink(app: str, dir: str) -> FileSink:  # noqa: A002
    return FileSink(app, dir)
