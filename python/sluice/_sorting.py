"""The pieces of ``sort_by_key``, as Spark's RangePartitioner does it: a sample of each
partition's keys chooses ``n - 1`` bounds that cut the key space into ranges of about
equal weight; a shuffle sends each pair to its key's range; each reduce partition sorts
its pairs. Partition ``i``'s keys all sort before partition ``i + 1``'s (after, when
descending), so the partitions in order are the whole RDD sorted.

These are module functions: they reach the workers by reference (cloudpickle), with the
bounds and the user's key function as data.
"""

from __future__ import annotations

import random
from bisect import bisect_left
from typing import Any, Callable, Iterable, Iterator

KeyFunc = Callable[[Any], Any]

# Spark's RangePartitioner samples about 20 keys per output partition, three times over,
# since partitions differ in size; the cap keeps the driver's share small.
SAMPLE_PER_PARTITION = 20
OVERSAMPLE = 3
MAX_SAMPLE = 1_000_000


def sample_size(partitions: int | None) -> int:
    """How many keys each input partition keeps for choosing ``partitions`` ranges (None: as
    many ranges as input partitions, so each keeps Spark's share of the sample)."""
    return min(OVERSAMPLE * SAMPLE_PER_PARTITION * (partitions or 1), MAX_SAMPLE)


def sample_keys(size: int, index: int, pairs: Iterator[Any]) -> Iterator[tuple[int, list[Any]]]:
    """One element for the partition: how many pairs it has and a uniform sample of their
    keys (reservoir sampling, seeded by the partition's index so that a retry samples alike)."""
    rng = random.Random(index)
    sample: list[Any] = []
    count = 0
    for pair in pairs:
        count += 1
        if len(sample) < size:
            sample.append(pair[0])
        else:
            slot = rng.randrange(count)
            if slot < size:
                sample[slot] = pair[0]
    yield (count, sample)


def range_bounds(samples: Iterable[tuple[int, list[Any]]], partitions: int, key_func: KeyFunc | None) -> list[Any]:
    """At most ``partitions - 1`` distinct bounds (``key_func`` of keys, ascending). Each sampled
    key weighs as many pairs as it stands for in its partition, so a big partition's keys count
    for more than a small one's."""
    weighted: list[tuple[Any, float]] = []
    total = 0.0
    for count, sample in samples:
        if sample:
            weight = count / len(sample)
            total += count
            weighted.extend((key if key_func is None else key_func(key), weight) for key in sample)
    if not weighted or partitions <= 1:
        return []
    weighted.sort(key=lambda item: item[0])
    step = total / partitions
    bounds: list[Any] = []
    cumulative = 0.0
    target = step
    for key, weight in weighted:
        cumulative += weight
        if cumulative >= target and (not bounds or bounds[-1] < key):
            bounds.append(key)
            if len(bounds) == partitions - 1:
                break
            target = step * (len(bounds) + 1)
    return bounds


def range_partition(bounds: list[Any], key_func: KeyFunc | None, ascending: bool, key: Any) -> int:
    """The range ``key`` falls in: keys equal to a bound go to the range the bound ends."""
    index = bisect_left(bounds, key if key_func is None else key_func(key))
    return index if ascending else len(bounds) - index


def sort_partition(key_func: KeyFunc | None, ascending: bool, pairs: Iterator[Any]) -> list[Any]:
    """The partition's pairs sorted by key (stable: equal keys keep the shuffle's order)."""
    if key_func is None:
        return sorted(pairs, key=_first, reverse=not ascending)
    return sorted(pairs, key=lambda pair: key_func(pair[0]), reverse=not ascending)


def _first(pair: Any) -> Any:
    return pair[0]

