"""RDD operations over real Kafka ranges: map_partitions, joins and cogroup, distinct, and the
fast paths the workers take for `a + b` and `(x, c)` giving what the plain functions give."""

from __future__ import annotations

import operator
from collections import Counter

import pytest

from sluice import SluiceError, create_rdd

pytestmark = pytest.mark.kafka  # the run's broker (KAFKA_BOOTSTRAP)


def line(i: int) -> str:
    return f"w{i % 7} w{i % 5} n{i}"


@pytest.fixture
def lines(admin, new_topic, brokers):
    """400 lines over two partitions; line i is 'w{i % 7} w{i % 5} n{i}' and sits in partition i % 2."""
    topic = new_topic(partitions=2)
    admin.produce(topic, [{"value": line(i), "partition": i % 2} for i in range(400)])
    return create_rdd(brokers, [(topic, 0, 0, 200), (topic, 1, 0, 200)], value_deserializer="string")


def test_map_partitions_sees_each_partition_as_one_stream(lines) -> None:
    def summary(records):
        values = [r.value for r in records]
        yield (len(values), values[0], values[-1])

    assert lines.map_partitions(summary).collect() == [(200, line(0), line(398)), (200, line(1), line(399))]
    with_index = lines.map_partitions_with_index(lambda index, records: [(index, sum(1 for _ in records))])
    assert with_index.collect() == [(0, 200), (1, 200)]
    # Lazily: a function that stops early reads as far as it needs.
    assert lines.map_partitions(lambda records: [next(records).offset]).collect() == [0, 0]


def test_map_partitions_between_other_operations_keeps_every_element(lines) -> None:
    def batched(words):
        batch = []
        for word in words:
            batch.append(word)
            if len(batch) == 7:
                yield tuple(batch)
                batch = []
        if batch:
            yield tuple(batch)

    grouped = lines.flat_map(lambda r: r.value.split()).map_partitions(batched).flat_map(list).count_by_value()
    expected = Counter(word for i in range(400) for word in line(i).split())
    assert grouped == dict(expected)


def test_joins_and_cogroup_pair_each_key_s_values(lines, brokers) -> None:
    by_seven = lines.map(lambda r: (int(r.value.split()[2][1:]) % 7, r.offset)).filter(lambda kv: kv[1] < 3)
    names = lines.map(lambda r: int(r.value.split()[2][1:])).filter(lambda n: n < 5).map(lambda n: (n, f"name{n}"))
    # by_seven: partition 0 offsets 0..2 are lines 0,2,4 → keys 0,2,4; partition 1: lines 1,3,5 → keys 1,3,5
    assert sorted(by_seven.collect()) == [(0, 0), (1, 0), (2, 1), (3, 1), (4, 2), (5, 2)]
    assert sorted(names.collect()) == [(n, f"name{n}") for n in range(5)]
    assert sorted(by_seven.join(names).collect()) == [(n, (n // 2, f"name{n}")) for n in range(5)]
    assert sorted(by_seven.left_outer_join(names).collect()) == [(n, (n // 2, f"name{n}")) for n in range(5)] + [
        (5, (2, None))
    ]
    assert sorted(names.right_outer_join(by_seven, 3).collect()) == [(n, (f"name{n}", n // 2)) for n in range(5)] + [
        (5, (None, 2))
    ]
    odd_names = names.filter(lambda kv: kv[0] % 2 == 1).map_values(str.upper)
    assert sorted(by_seven.filter(lambda kv: kv[0] < 2).full_outer_join(odd_names).collect()) == [
        (0, (0, None)),
        (1, (0, "NAME1")),
        (3, (None, "NAME3")),
    ]
    cogrouped = dict(by_seven.cogroup(names, 2).collect())
    assert cogrouped[5] == ([2], []) and cogrouped[0] == ([0], ["name0"])
    with pytest.raises(TypeError, match="takes an RDD"):
        by_seven.join([(0, "x")])


def test_distinct_union_and_key_operations(lines) -> None:
    words = lines.flat_map(lambda r: r.value.split()[:2])
    assert sorted(words.distinct().collect()) == sorted({f"w{i}" for i in range(7)})
    both = words.union(words)
    assert both.count() == 1600
    assert dict(both.map(lambda w: (w, 1)).reduce_by_key(operator.add).collect()) == {
        w: 2 * n for w, n in Counter(w for i in range(400) for w in (f"w{i % 7}", f"w{i % 5}")).items()
    }
    assert sorted(words.map(lambda w: (w, len(w))).keys().distinct().collect()) == sorted({f"w{i}" for i in range(7)})


def test_the_fast_paths_give_what_the_functions_give(lines) -> None:
    words = lines.flat_map(lambda r: r.value.split())
    plain = Counter(word for i in range(400) for word in line(i).split())
    # (x, 1) and a + b: counted in C.
    assert dict(words.map(lambda w: (w, 1)).reduce_by_key(lambda a, b: a + b).collect()) == dict(plain)
    # (x, 3): three times each count.
    assert dict(words.map(lambda w: (w, 3)).reduce_by_key(operator.add).collect()) == {w: 3 * n for w, n in plain.items()}
    # (x, True) is not an int pair: True + True is 2 but a key seen once keeps True.
    as_bools = dict(words.map(lambda w: (w, True)).reduce_by_key(lambda a, b: a + b).collect())
    assert as_bools["n7"] is True and as_bools["w0"] == plain["w0"]
    # A function that looks alike but is not a + b runs as written.
    assert dict(words.map(lambda w: (w, 1)).reduce_by_key(lambda a, b: a - b + 2 * b).collect()) == dict(plain)
    assert dict(words.map(lambda w: (w, 1.5)).reduce_by_key(lambda a, b: a + b).collect())["w0"] == 1.5 * plain["w0"]
    assert words.map(len).reduce(operator.add) == sum(len(w) for w in plain.elements())
    assert words.map(len).sum() == sum(len(w) for w in plain.elements())


def test_an_action_inside_transform_is_refused(lines) -> None:
    from sluice._graph import Node
    from sluice.rdd import RDD

    stand_in = RDD(None, Node("transform_input", params={"index": 0}))
    with pytest.raises(SluiceError, match="cannot run actions"):
        stand_in.union(lines).count()
