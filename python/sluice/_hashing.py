"""A key hash that is the same in every process, whatever PYTHONHASHSEED says.

Map tasks run in different worker processes and must agree on the reduce partition of
every key; Python's own ``hash`` of a str differs from process to process. Keys that
compare equal hash equally (``1 == 1.0 == True``), as dict keys require.
"""

from __future__ import annotations

import pickle
import struct
from typing import Any
from zlib import crc32

_MASK = 0xFFFFFFFF
# What subclasses (enums of str or int, named tuples) hash and compare as.
_BASES: tuple[type[Any], ...] = (str, int, bytes, tuple, float)
_DOUBLE = struct.Struct("<d")


def portable_hash(key: Any) -> int:
    """A non-negative 32-bit hash of ``key``, stable across processes and runs."""
    kind = type(key)
    if kind is str:
        return crc32(key.encode("utf-8", "surrogatepass"))
    if kind is int or kind is bool:
        return _hash_int(int(key))
    if kind is bytes:
        return crc32(key)
    if kind is tuple:
        acc = 0x345678
        for item in key:
            acc = ((acc * 1000003) ^ portable_hash(item)) & _MASK
        return acc ^ len(key)
    if key is None:
        return 0
    if kind is float:
        if key.is_integer():
            return _hash_int(int(key))
        return crc32(_DOUBLE.pack(key))
    if kind is frozenset:
        return sum(portable_hash(item) for item in key) & _MASK
    for base in _BASES:
        if isinstance(key, base):
            return portable_hash(base(key))
    # Anything else (dataclasses, custom classes): its pickled form, which is stable for
    # equal values of plain classes. Document keys of such types as needing care.
    return crc32(pickle.dumps(key, protocol=4))


def _hash_int(value: int) -> int:
    # Fold big integers into 32 bits, then mix so that consecutive ints spread over buckets.
    folded = 0
    while value < -(2**31) or value >= 2**32:
        folded ^= value & _MASK
        value >>= 32
    folded ^= value & _MASK
    return (folded * 0x9E3779B1) & _MASK


def bucket_of(key: Any, buckets: int) -> int:
    return portable_hash(key) % buckets


def key_id(key: Any) -> str:
    """A text that is the same for keys that compare equal (``1``, ``1.0``, ``True``) and
    differs for keys that do not: how the engine tells Python keys apart when it keeps their
    state. Built-in values (text, numbers, bytes, None, tuples and frozensets of those) have
    a canonical form; anything else goes by its pickled bytes, which are the same for equal
    values of plain classes (dataclasses, named tuples of built-ins) — keys of other classes
    need that to hold."""
    kind = type(key)
    if kind is str:
        return f"s{key}"
    if kind is int or kind is bool:
        return f"i{int(key)}"
    if kind is float:
        return f"i{int(key)}" if key.is_integer() else f"f{key!r}"
    if kind is bytes:
        return f"b{key.hex()}"
    if key is None:
        return "n"
    if kind is tuple:
        return "t" + "".join(_framed(key_id(item)) for item in key)
    if kind is frozenset:
        return "z" + "".join(_framed(part) for part in sorted(key_id(item) for item in key))
    for base in _BASES:
        if isinstance(key, base):
            return key_id(base(key))
    return "p" + pickle.dumps(key, protocol=4).hex()


def _framed(part: str) -> str:
    # Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
    return f"{len(part)}:{part}"
