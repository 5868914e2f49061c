// The one public barrel: everything users import from 'sluice' is re-exported here.

export type { CheckpointStoreOptions, RecoveryView } from './checkpoint/checkpoint-store.ts'
// checkpoint and rate control
export { CheckpointStore } from './checkpoint/checkpoint-store.ts'
export type { JsonObject, JsonValue } from './checkpoint/json-value.ts'
export type { ErrorCode, SluiceErrorOptions } from './core/errors.ts'
// errors and logging
export { ErrorCodes, isSluiceError, SluiceError } from './core/errors.ts'
export type { LogFields, Logger, LogLevel } from './core/logger.ts'
export { createLogger, silentLogger } from './core/logger.ts'
// Kafka boundary
export { KafkaClient } from './kafka/client.ts'
export type { OffsetRangeJson } from './kafka/offset-range.ts'
// Kafka direct source
export { OffsetRange } from './kafka/offset-range.ts'
export type { KafkaClientOptions } from './kafka/options.ts'
export type { KafkaRecord } from './kafka/records.ts'
export type {
  IsolationLevel,
  OffsetSpec,
  PartitionOffset,
  ProduceRecord,
  TopicPartition,
} from './kafka/types.ts'
export type { KeySerializer } from './rdd/key-serializer.ts'
export type { ParallelizeOptions } from './rdd/parallelize.ts'
export { parallelize } from './rdd/parallelize.ts'
export type { ActionOptions, CountByValueOptions } from './rdd/rdd.ts'
// batch engine
export { Rdd } from './rdd/rdd.ts'
export type { ShuffleOptions } from './rdd/shuffle-options.ts'
export type { ChunkSource } from './rdd/source-rdd.ts'
export { fromSource } from './rdd/source-rdd.ts'
export type { TaskContext } from './rdd/task-context.ts'
export type { TaskRunnerOptions } from './rdd/task-runner.ts'
export { defaultTaskRunner, TaskRunner } from './rdd/task-runner.ts'
export type { BackpressureOptions, PidOptions, RateControlOptions } from './scheduler/rate-control-options.ts'
export type { SinkBatch, SinkOffsetRange } from './sinks/batch.ts'
export type { FileSinkOptions, FileSinkWriter } from './sinks/file-sink.ts'
export { createFileSink, FileSink } from './sinks/file-sink.ts'
export type { LostRecords } from './sinks/kafka-lost-records.ts'
export type { KafkaSinkOptions, KafkaSinkTransaction } from './sinks/kafka-sink.ts'
export { createKafkaSink, KafkaSink } from './sinks/kafka-sink.ts'
export type { BatchOutcome, ExactlyOnceSink, OffsetStoringSink, StoredOffsets } from './sinks/sink.ts'
export type { SinkBatchEvent, SinkBatchOutcome, SinkKind } from './sinks/sink-diagnostics.ts'
export { sinkBatchChannelName } from './sinks/sink-diagnostics.ts'
export type { QueryResult } from './sinks/sql/engine.ts'
export type { LostRange } from './sinks/sql/offsets-table.ts'
export type { RowValues, UpsertOptions } from './sinks/sql/row-writes.ts'
export type { SqlTransaction } from './sinks/sql/sql-sink.ts'
// exactly-once sinks
export { createSqlSink, SqlSink } from './sinks/sql/sql-sink.ts'
export type { PostgresOptions, SqliteOptions, SqlSinkOptions } from './sinks/sql/sql-sink-options.ts'
export type { CreateRddOptions, KafkaReadOptions } from './source/create-rdd.ts'
export { createRDD } from './source/create-rdd.ts'
export type { Deserializer, Deserializers } from './source/deserializers.ts'
export type { DirectStreamOptions } from './source/direct-stream.ts'
export { createDirectStream, DirectKafkaInputDStream } from './source/direct-stream.ts'
export { KafkaRDD } from './source/kafka-rdd.ts'
export type { StartingOffsets } from './source/starting-offsets.ts'
export type { Batch, BatchInfo, BatchRef, StreamingListener } from './stream/batch.ts'
export type { StreamingContextOptions } from './stream/context-options.ts'
export type { BatchFunction, PrintOptions } from './stream/dstream.ts'
// windows and state
export { DStream, MapWithStateDStream } from './stream/dstream.ts'
export type { IncrementalWindowOptions } from './stream/reduce-window.ts'
export type { State } from './stream/state/state.ts'
export type { JsonCodec } from './stream/state/state-codec.ts'
export type {
  StatefulOptions,
  StateSpec,
  StateTimeout,
  UpdateStateOptions,
} from './stream/state/state-spec.ts'
export type { MappingFunction, UpdateFunction } from './stream/state/state-update.ts'
export type { ContextState } from './stream/streaming-context.ts'
// streaming
export { StreamingContext } from './stream/streaming-context.ts'
