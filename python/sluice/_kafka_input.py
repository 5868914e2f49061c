"""Chunks of Kafka records as a worker receives them, made into KafkaRecords.

The engine sends a chunk as columns (``src/python/kafka-chunk.ts``): the topic and
partition once, offsets and timestamps as int64 arrays, keys and values as the raw bytes of
the records (None for a null). Deserializing happens here, in the workers, in parallel:
'string' and 'json' in C (``bytes.decode``, the ``json`` module's scanner), a function of
the user's per record.
"""

from __future__ import annotations

import json
import sys
from array import array
from itertools import repeat
from operator import methodcaller
from typing import Any, Callable

from ._blobs import DeserializationError, UserError
from .records import KafkaRecord

Functions = dict[str, Callable[..., Any]]

# Invalid UTF-8 becomes U+FFFD, as Node's TextDecoder does for the TypeScript API's 'string'.
_decode_text = methodcaller("decode", "utf-8", "replace")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse_json(payload: bytes) -> Any:
    # Standard JSON, as JSON.parse reads it: NaN and Infinity are refused. Integers keep
    # every digit (Python's ints are exact, unlike JavaScript numbers beyond 2^53).
    return json.loads(payload, parse_constant=_reject_constant)


def int64_list(data: bytes) -> list[int]:
    """Little-endian int64s, as the engine sends offsets and timestamps."""
    values = array("q")
    values.frombytes(data)
    if sys.byteorder != "little":
        values.byteswap()
    return values.tolist()


def _deserializer(spec: Any, functions: Functions) -> tuple[Callable[[bytes], Any] | None, bool]:
    """The function for a payload spec (None: bytes as they are), and whether it is the user's."""
    if spec is None or spec == "bytes":
        return None, False
    if spec == "string":
        return _decode_text, False
    if spec == "json":
        return _parse_json, False
    return functions[spec["fn"]], True


class KafkaInput:
    """Decodes the engine's Kafka chunks into lists of KafkaRecord."""

    def __init__(self, spec: dict[str, Any], functions: Functions) -> None:
        self._key, self._key_is_users = _deserializer(spec.get("key"), functions)
        self._value, self._value_is_users = _deserializer(spec.get("value"), functions)

    def decode(self, data: dict[str, Any]) -> list[KafkaRecord]:
        topic = data["topic"]
        partition = data["partition"]
        offsets = int64_list(data["offsets"])
        timestamps = int64_list(data["timestamps"])
        keys = data["keys"]
        values = data["values"]
        if self._key is not None:
            keys = _deserialize_all(keys, self._key, self._key_is_users, "key", topic, partition, offsets)
        if self._value is not None:
            values = _deserialize_all(values, self._value, self._value_is_users, "value", topic, partition, offsets)
        headers = data["headers"]
        headers = repeat(()) if headers is None else [tuple((h[0], h[1]) for h in hs) for hs in headers]
        # tuple.__new__(KafkaRecord, fields) is what KafkaRecord._make does, without a Python frame per record.
        return list(
            map(
                tuple.__new__,
                repeat(KafkaRecord),
                zip(repeat(topic), repeat(partition), offsets, timestamps, keys, values, headers),
            )
        )


def _deserialize_all(
    payloads: list[Any],
    fn: Callable[[bytes], Any],
    users: bool,
    what: str,
    topic: str,
    partition: int,
    offsets: list[int],
) -> list[Any]:
    if not users and None not in payloads:
        try:
            return list(map(fn, payloads))
        except ValueError:
            pass  # found again below, with the record's offset
    out: list[Any] = []
    for i, payload in enumerate(payloads):
        if payload is None:
            out.append(None)
            continue
        try:
            out.append(fn(payload))
        except Exception as error:  # noqa: BLE001 - any deserializer failure names the record
            raise UserError(
                DeserializationError(
                    f"the {what} deserializer failed on {topic}-{partition} offset {offsets[i]}: "
                    f"{type(error).__name__}: {error}"
                )
            ) from error
    return out
