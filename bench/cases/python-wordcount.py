"""The stream-wordcount job written in Python: a direct stream, flat_map split, map to pairs,
reduce_by_key, collect, until the backlog is read. Prints one JSON line like the Node cases.

Steady-state time, as the TypeScript case measures it: from the start of the first batch
that reads records to the completion of the batch that reads the last one (so the start of
the engine and the workers is left out, and reported apart). CPU time over the same span is
the sum of the driver's, the engine's and every worker's (from /proc); peak RSS is each
process's own.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import threading
import time
from typing import Any

from sluice import KafkaUtils, StreamingContext, StreamingListener

brokers, topic, partitions, per_partition = sys.argv[1].split(","), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
interval_ms = int(sys.argv[5]) if len(sys.argv) > 5 else 1000
total = partitions * per_partition
TICKS = os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_ms(pid: int) -> float:
    """User + system CPU time of a process, in ms."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / TICKS


ssc = StreamingContext("bench-python-wordcount", interval_ms / 1000)
lines = KafkaUtils.create_direct_stream(ssc, brokers, [topic], starting_offsets="earliest", value_deserializer="string")
state = {"records": 0, "batches": 0, "distinct": 0}
done = threading.Event()
span: dict[str, Any] = {}


def processes() -> list[int]:
    info = ssc.engine.call("engine.info")
    return [os.getpid(), info["pid"], *info["workers"]]


def cpu_by_process() -> list[float]:
    """Driver, engine, then each worker."""
    return [cpu_ms(pid) for pid in processes()]


class Clock(StreamingListener):
    def on_batch_started(self, event):
        if "start" not in span and event.batch.records > 0:
            span["start"] = time.perf_counter()
            span["cpu_start"] = cpu_by_process()
            span["startup_ms"] = (span["start"] - span["launched"]) * 1000

    def on_batch_completed(self, event):
        state["records"] += event.records
        if event.records:
            state["batches"] += 1
        if state["records"] >= total and not done.is_set():
            span["end"] = time.perf_counter()
            span["cpu_end"] = cpu_by_process()
            info = ssc.engine.call("engine.info")
            span["engine_mb"] = round(peak_rss_mb(info["pid"]))
            span["workers_mb"] = [round(peak_rss_mb(pid)) for pid in info["workers"]]
            done.set()


def save(rdd, batch):
    state["distinct"] = max(state["distinct"], len(rdd.collect()))


lines.flat_map(lambda r: r.value.split(" ")).map(lambda w: (w, 1)).reduce_by_key(lambda a, b: a + b).foreach_batch(save)
ssc.add_listener(Clock())
span["launched"] = time.perf_counter()
ssc.start()
done.wait()
ssc.stop()
driver_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
print(
    json.dumps(
        {
            "name": f"sluice Python word count ({interval_ms} ms batches)",
            "records": state["records"],
            "ms": (span["end"] - span["start"]) * 1000,
            "maxRssMb": span["engine_mb"] + sum(span["workers_mb"]) + driver_mb,
            "extra": {
                "batches": state["batches"],
                "distinct": state["distinct"],
                "cpuMs": round(sum(span["cpu_end"]) - sum(span["cpu_start"])),
                # Driver, engine, then each worker (a worker started mid-run counts from 0).
                "cpuMsByProcess": [
                    round(end - (span["cpu_start"][i] if i < len(span["cpu_start"]) else 0))
                    for i, end in enumerate(span["cpu_end"])
                ],
                "startupMs": round(span["startup_ms"]),
                "driverMb": driver_mb,
                "engineMb": span["engine_mb"],
                "workersMb": span["workers_mb"],
            },
        }
    )
)
