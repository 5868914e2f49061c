"""map_with_state's timeouts and initial state against a real broker: exact emissions, each
idle key's timeout call made once with is_timing_out(), keys of the initial state visible to
the function and timing out like the others."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from sluice import KafkaUtils, StateSpec, StreamingContext, create_rdd

pytestmark = pytest.mark.kafka  # the run's broker (KAFKA_BOOTSTRAP)


def counting(key: str, value: int | None, state: Any) -> tuple[str, str, int]:
    if state.is_timing_out():
        assert value is None
        return ("timeout", key, state.get())
    total = state.get_option(0) + value
    state.update(total)
    return ("data", key, total)


@pytest.mark.parametrize(
    ("timeout", "initial_from"),
    [({"timeout_batches": 2}, "dict"), ({"timeout": 0.4}, "rdd")],
    ids=["batches-dict", "seconds-rdd"],
)
def test_idle_keys_time_out_once_and_initial_state_is_seen(
    admin, new_topic, brokers, tmp_path, timeout, initial_from
) -> None:
    topic = new_topic()
    admin.produce(topic, ["a", "b", "a"])
    initial: Any = {"a": 100, "z": 5}
    if initial_from == "rdd":
        states = new_topic()
        admin.produce(states, [{"key": k, "value": str(v)} for k, v in initial.items()])
        initial = create_rdd(
            brokers, [(states, 0, 0, 2)], key_deserializer="string", value_deserializer="string"
        ).map(lambda r: (r.key, int(r.value)))
    ssc = StreamingContext("py-mws-timeout", 0.2, str(tmp_path / "ckpt"))
    pairs = KafkaUtils.create_direct_stream(
        ssc, brokers, [topic], starting_offsets="earliest", value_deserializer="string"
    ).map(lambda r: (r.value, 1))
    spec = StateSpec(counting, initial_state=initial, **timeout)
    tracked = pairs.map_with_state(spec)
    lock = threading.Lock()
    seen: dict[str, Any] = {"emitted": [], "snapshots": []}

    def on_emitted(rdd: Any) -> None:
        collected = rdd.collect()
        with lock:
            seen["emitted"].extend(collected)

    def on_snapshot(rdd: Any) -> None:
        snapshot = dict(rdd.collect())
        with lock:
            seen["snapshots"].append(snapshot)

    tracked.foreach_batch(on_emitted)
    tracked.state_snapshots().foreach_batch(on_snapshot)
    ssc.start()
    deadline = time.monotonic() + 60
    # Past the timeouts, several more batches: a second timeout call would show up there.
    while True:
        with lock:
            timeouts = [e for e in seen["emitted"] if e[0] == "timeout"]
            after = len(seen["snapshots"]) - next(
                (i for i, snap in enumerate(seen["snapshots"]) if snap == {}), len(seen["snapshots"])
            )
        if len(timeouts) >= 3 and after >= 5:
            break
        assert not ssc.await_termination(timeout=0.2), "the stream stopped on its own"
        assert time.monotonic() < deadline, f"no timeouts in time: {seen}"
    ssc.stop()
    ssc.await_termination(timeout=60)

    # The initial 100 of "a" is where its count starts; "b" starts from nothing. Each key's
    # records are visited in their order.
    assert [e for e in seen["emitted"] if e[:2] == ("data", "a")] == [("data", "a", 101), ("data", "a", 102)]
    assert [e for e in seen["emitted"] if e[0] == "data" and e[1] != "a"] == [("data", "b", 1)]
    assert sorted(e for e in seen["emitted"] if e[0] == "timeout") == [
        ("timeout", "a", 102),
        ("timeout", "b", 1),
        ("timeout", "z", 5),
    ]
    snapshots = seen["snapshots"]
    assert snapshots[0] == {"a": 102, "b": 1, "z": 5}
    assert snapshots[-1] == {}
