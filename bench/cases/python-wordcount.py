"""The stream-wordcount job written in Python: a direct stream, flat_map split, map to pairs,
reduce_by_key, collect, until the backlog is read. Prints one JSON line like the Node cases,
with the peak RSS of the driver, the engine and each worker."""

from __future__ import annotations

import json
import resource
import sys
import threading
import time

from sluice import KafkaUtils, StreamingContext

brokers, topic, partitions, per_partition = sys.argv[1].split(","), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
interval_ms = int(sys.argv[5]) if len(sys.argv) > 5 else 1000
total = partitions * per_partition


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


ssc = StreamingContext("bench-python-wordcount", interval_ms / 1000)
lines = KafkaUtils.create_direct_stream(ssc, brokers, [topic], starting_offsets="earliest", value_deserializer="string")
state = {"records": 0, "batches": 0, "distinct": 0, "memory": {}}
done = threading.Event()


def save(rdd, batch):
    state["distinct"] = max(state["distinct"], len(rdd.collect()))
    state["records"] += batch.records
    if batch.records:
        state["batches"] += 1
    if state["records"] >= total and not done.is_set():
        info = ssc.engine.call("engine.info")
        state["memory"] = {
            "engineMb": round(peak_rss_mb(info["pid"])),
            "workersMb": [round(peak_rss_mb(pid)) for pid in info["workers"]],
        }
        done.set()


lines.flat_map(lambda r: r.value.split(" ")).map(lambda w: (w, 1)).reduce_by_key(lambda a, b: a + b).foreach_batch(save)
started = time.perf_counter()
ssc.start()
done.wait()
ms = (time.perf_counter() - started) * 1000
ssc.stop()
memory = state["memory"]
driver_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
print(
    json.dumps(
        {
            "name": f"sluice Python word count ({interval_ms} ms batches)",
            "records": state["records"],
            "ms": ms,
            "maxRssMb": memory["engineMb"] + sum(memory["workersMb"]) + driver_mb,
            "extra": {"batches": state["batches"], "distinct": state["distinct"], "driverMb": driver_mb, **memory},
        }
    )
)
