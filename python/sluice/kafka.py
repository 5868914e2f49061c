"""Kafka inputs: the direct stream and batch RDDs over explicit offset ranges."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable, Literal, Mapping, Union

from . import _engine
from ._functions import FUNCTIONS
from ._graph import Node
from ._names import camel_keys
from .dstream import DStream
from .rdd import RDD
from .records import KafkaRecord, OffsetRange

if TYPE_CHECKING:
    from .context import StreamingContext
    from .sinks import Sink

Deserializer = Union[Literal["bytes", "string", "json"], Callable[[bytes], Any]]
StartingOffsets = Union[Literal["earliest", "latest"], Mapping[str, Mapping[int, int]], Mapping[str, int], "Sink"]


def _payload_spec(deserializer: Deserializer | None, what: str) -> tuple[Any, frozenset[str]]:
    """'string' and 'json' are decoded by the engine; 'bytes' arrive as they are; a function runs in the workers."""
    if deserializer is None or deserializer == "bytes":
        return "bytes", frozenset()
    if deserializer in ("string", "json"):
        return deserializer, frozenset()
    if callable(deserializer):
        digest = FUNCTIONS.add(deserializer, what)
        return {"fn": digest}, frozenset({digest})
    raise ValueError(f"{what} must be 'bytes', 'string', 'json' or a function of bytes, got {deserializer!r}")


def _read_options(
    brokers: Iterable[str] | str,
    key_deserializer: Deserializer | None,
    value_deserializer: Deserializer | None,
    isolation_level: str | None,
    max_bytes_per_fetch: int | None,
    client_id: str | None,
) -> tuple[dict[str, Any], dict[str, Any], frozenset[str]]:
    if isinstance(brokers, str):
        brokers = [b for b in brokers.split(",") if b]
    kafka: dict[str, Any] = {"brokers": list(brokers)}
    if isolation_level is not None:
        kafka["isolationLevel"] = isolation_level
    if max_bytes_per_fetch is not None:
        kafka["maxBytesPerFetch"] = max_bytes_per_fetch
    if client_id is not None:
        kafka["clientId"] = client_id
    key, key_fns = _payload_spec(key_deserializer, "key_deserializer")
    value, value_fns = _payload_spec(value_deserializer, "value_deserializer")
    return kafka, {"key": key, "value": value}, key_fns | value_fns


def create_direct_stream(
    ssc: "StreamingContext",
    brokers: Iterable[str] | str,
    topics: Iterable[str] | None = None,
    *,
    topic_pattern: str | None = None,
    assign: Iterable[tuple[str, int]] | None = None,
    starting_offsets: StartingOffsets = "latest",
    key_deserializer: Deserializer | None = None,
    value_deserializer: Deserializer | None = None,
    max_rate_per_partition: float | None = None,
    min_rate_per_partition: float | None = None,
    backpressure: bool | Mapping[str, Any] | None = None,
    isolation_level: Literal["read_committed", "read_uncommitted"] | None = None,
    max_bytes_per_fetch: int | None = None,
    fail_on_data_loss: bool | None = None,
    group_id: str | None = None,
    client_id: str | None = None,
) -> DStream[KafkaRecord]:
    """The Kafka direct stream: each batch is a set of offset ranges, planned and logged
    before any work, read straight from the partition leaders.

    Give exactly one of ``topics``, ``topic_pattern`` (a regular expression over topic
    names) or ``assign`` (explicit (topic, partition) pairs). ``starting_offsets`` applies
    only when the checkpoint has no position: 'earliest', 'latest', ``{topic: {partition:
    offset}}``, ``{"timestamp": ms}``, or a sink, to resume where its stored offsets say.
    Records are :class:`KafkaRecord` with bytes keys and values unless a deserializer is
    chosen: 'string' and 'json' are decoded by the engine, a function runs in the workers.
    """
    kafka, payloads, functions = _read_options(
        brokers, key_deserializer, value_deserializer, isolation_level, max_bytes_per_fetch, client_id
    )
    given = [name for name, value in (("topics", topics), ("topic_pattern", topic_pattern), ("assign", assign)) if value is not None]
    if len(given) != 1:
        raise ValueError("give exactly one of topics, topic_pattern or assign" + (f" (got {', '.join(given)})" if given else ""))
    if topics is not None:
        if isinstance(topics, str):
            raise TypeError("topics must be a list of topic names, not a string")
        kafka["subscribe"] = list(topics)
    elif topic_pattern is not None:
        kafka["subscribePattern"] = topic_pattern
    else:
        kafka["assign"] = [[t, p] for t, p in assign or []]
    kafka["startingOffsets"] = _starting_offsets(starting_offsets)
    optional = {
        "maxRatePerPartition": max_rate_per_partition,
        "minRatePerPartition": min_rate_per_partition,
        "failOnDataLoss": fail_on_data_loss,
        "groupId": group_id,
    }
    kafka.update({k: v for k, v in optional.items() if v is not None})
    if backpressure is not None:
        kafka["backpressure"] = {"enabled": backpressure} if isinstance(backpressure, bool) else camel_keys(backpressure)
    return ssc._input(Node("kafka_stream", (), {"kafka": kafka, **payloads}, functions))


def _starting_offsets(value: Any) -> Any:
    from .sinks import Sink

    if isinstance(value, Sink):
        return {"sink": value._id}
    if value in ("earliest", "latest"):
        return value
    if isinstance(value, Mapping):
        if "timestamp" in value and isinstance(value["timestamp"], (int, float)):
            return {"timestamp": value["timestamp"]}
        return {topic: {str(p): o for p, o in parts.items()} for topic, parts in value.items()}
    raise ValueError(
        f"starting_offsets must be 'earliest', 'latest', {{topic: {{partition: offset}}}}, {{'timestamp': ms}} or a sink, got {value!r}"
    )


def create_rdd(
    brokers: Iterable[str] | str,
    offset_ranges: Iterable[OffsetRange | tuple[str, int, int, int]],
    *,
    key_deserializer: Deserializer | None = None,
    value_deserializer: Deserializer | None = None,
    isolation_level: Literal["read_committed", "read_uncommitted"] | None = None,
    max_bytes_per_fetch: int | None = None,
    client_id: str | None = None,
) -> RDD[KafkaRecord]:
    """A batch job over explicit offset ranges: exactly the records ``from <= offset < until``
    of each range. Nothing is read until an action runs; ``count()`` needs no reading."""
    ranges = tuple(r if isinstance(r, OffsetRange) else OffsetRange.create(*r) for r in offset_ranges)
    kafka, payloads, functions = _read_options(
        brokers, key_deserializer, value_deserializer, isolation_level, max_bytes_per_fetch, client_id
    )
    params = {"kafka": kafka, **payloads, "ranges": [list(r) for r in ranges]}
    return RDD(_engine.get_engine(), Node("kafka_rdd", (), params, functions), ranges)


def _brokers_from_params(kafka_params: Mapping[str, str]) -> str:
    for key in ("bootstrap.servers", "metadata.broker.list"):
        if key in kafka_params:
            return kafka_params[key]
    raise ValueError("kafkaParams needs 'bootstrap.servers' (or 'metadata.broker.list')")


def _utf8(payload: bytes) -> str:
    return payload.decode("utf-8")


class KafkaUtils:
    """Spark's entry point, with the Pythonic names and PySpark's (the seed's) names."""

    create_direct_stream = staticmethod(create_direct_stream)
    create_rdd = staticmethod(create_rdd)

    @staticmethod
    def createDirectStream(  # noqa: N802 - PySpark's name
        ssc: "StreamingContext",
        topics: list[str],
        kafkaParams: Mapping[str, str],  # noqa: N803
        fromOffsets: Mapping[tuple[str, int], int] | None = None,  # noqa: N803
        keyDecoder: Callable[[bytes], Any] | None = _utf8,  # noqa: N803
        valueDecoder: Callable[[bytes], Any] | None = _utf8,  # noqa: N803
        messageHandler: Callable[[KafkaRecord], Any] | None = None,  # noqa: N803
    ) -> DStream[Any]:
        """PySpark's signature: a stream of ``(key, value)`` tuples (or ``messageHandler(record)``),
        so the seed's ``kafkaStream.map(lambda x: x[1])`` reads the values."""
        reset = kafkaParams.get("auto.offset.reset", "largest")
        starting: Any = "earliest" if reset in ("smallest", "earliest") else "latest"
        if fromOffsets:
            starting = {}
            for (topic, partition), offset in fromOffsets.items():
                starting.setdefault(topic, {})[partition] = offset
        stream = create_direct_stream(
            ssc,
            _brokers_from_params(kafkaParams),
            topics,
            starting_offsets=starting,
            key_deserializer="string" if keyDecoder is _utf8 else keyDecoder,
            value_deserializer="string" if valueDecoder is _utf8 else valueDecoder,
        )
        return stream.map(messageHandler or _key_value)

    @staticmethod
    def createRDD(  # noqa: N802 - PySpark's name
        sc: Any,
        kafkaParams: Mapping[str, str],  # noqa: N803
        offsetRanges: list[OffsetRange],  # noqa: N803
        keyDecoder: Callable[[bytes], Any] | None = _utf8,  # noqa: N803
        valueDecoder: Callable[[bytes], Any] | None = _utf8,  # noqa: N803
        messageHandler: Callable[[KafkaRecord], Any] | None = None,  # noqa: N803
    ) -> RDD[Any]:
        """PySpark's signature (``sc`` is accepted and unused): ``(key, value)`` tuples."""
        rdd = create_rdd(
            _brokers_from_params(kafkaParams),
            offsetRanges,
            key_deserializer="string" if keyDecoder is _utf8 else keyDecoder,
            value_deserializer="string" if valueDecoder is _utf8 else valueDecoder,
        )
        return rdd.map(messageHandler or _key_value)


def _key_value(record: KafkaRecord) -> tuple[Any, Any]:
    return (record.key, record.value)
