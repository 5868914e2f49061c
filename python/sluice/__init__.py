"""sluice: Kafka direct streams and batch jobs in Python, exactly once.

Your program is the driver. The sluice engine (Node.js, started as a child process) plans
batches as Kafka offset ranges and logs them before any work, reads Kafka, shuffles, keeps
windows and state, runs the exactly-once sinks and commits; your functions run in a pool
of Python worker processes.
"""

from ._engine import configure, shutdown
from .admin import KafkaAdmin
from .batch import Batch
from .context import StreamingContext
from .dstream import DStream, MapWithStateDStream
from ._hashing import portable_hash
from .errors import EngineDied, SluiceError
from .kafka import KafkaUtils, create_direct_stream, create_rdd
from .listener import (
    BatchCompleted,
    BatchFailed,
    BatchStarted,
    BatchSubmitted,
    StreamingListener,
    StreamingStarted,
    StreamingStopped,
)
from .rdd import RDD
from .records import KafkaRecord, OffsetRange
from .sinks import FileSink, KafkaSink, SqlSink, create_file_sink, create_kafka_sink, create_sql_sink
from .state import State, StateSpec

__all__ = [
    "RDD",
    "Batch",
    "BatchCompleted",
    "BatchFailed",
    "BatchStarted",
    "BatchSubmitted",
    "DStream",
    "EngineDied",
    "FileSink",
    "KafkaAdmin",
    "KafkaRecord",
    "KafkaSink",
    "KafkaUtils",
    "MapWithStateDStream",
    "OffsetRange",
    "SluiceError",
    "SqlSink",
    "State",
    "StateSpec",
    "StreamingContext",
    "StreamingListener",
    "StreamingStarted",
    "StreamingStopped",
    "configure",
    "create_direct_stream",
    "create_file_sink",
    "create_kafka_sink",
    "create_rdd",
    "create_sql_sink",
    "portable_hash",
    "shutdown",
]
