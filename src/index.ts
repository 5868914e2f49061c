/// <reference types="node" preserve="true" />
/**
 * sluice — Spark Streaming's Kafka Direct API for Node.js. Everything an application imports
 * from 'sluice' is exported here, and only that: the streaming context and its streams, the
 * Kafka direct source (`createDirectStream`, `createRDD`, `OffsetRange`), the exactly-once
 * sinks, the batch engine's RDDs, errors and the logger. Engine internals (the task runner,
 * the checkpoint store, the wire client) are not part of it; tools that talk to a Kafka
 * cluster directly use 'sluice/admin'.
 *
 * One construction style per concept: `new StreamingContext(...)`, and factory functions for
 * everything else (`createDirectStream`, `createRDD`, `createSqlSink`, `createKafkaSink`,
 * `createFileSink`, `parallelize`, `fromSource`, `createLogger`, `OffsetRange.create`). The
 * classes those return are exported as types, to name them, not to construct them.
 */

// First, so that an unsupported Node.js is named before any other module of sluice runs.
import './core/node-version.ts'

export type { JsonObject, JsonValue } from './checkpoint/json-value.ts'
export type { ClaimResult, PartitionClaim, PartitionOffsetStore } from './cluster/offset-store.ts'
export type { GroupOptions, SharingOptions } from './cluster/sharing-options.ts'
export type { StaticSplitOptions } from './cluster/static-split.ts'
export type { ErrorCode, SluiceErrorOptions } from './core/errors.ts'
export { ErrorCodes, isSluiceError, SluiceError } from './core/errors.ts'
export type {
  ConsoleLoggerOptions,
  LogFields,
  Logger,
  LogLevel,
  LogSink,
  StructuredLogger,
} from './core/logger.ts'
export { createLogger, silentLogger } from './core/logger.ts'
export type { PinoLikeLogger } from './core/pino-logger.ts'
export { fromPino } from './core/pino-logger.ts'
export type { OffsetLike, OffsetRangeJson } from './kafka/offset-range.ts'
export { OffsetRange } from './kafka/offset-range.ts'
export type { KafkaConnectionOptions, SaslOptions, TlsOptions } from './kafka/options.ts'
export type { PartitionOwner } from './kafka/partition-owner.ts'
export type { KafkaRecord } from './kafka/records.ts'
export type { IsolationLevel, ProduceRecord, TopicPartition } from './kafka/types.ts'
export type { TerminalProgressBar } from './observe/progress-bar.ts'
export { createProgressBar } from './observe/progress-bar.ts'
export type { JobProgress, JobProgressListener } from './rdd/job-progress.ts'
export type { KeySerializer } from './rdd/key-serializer.ts'
export type { ParallelizeOptions } from './rdd/parallelize.ts'
export { parallelize } from './rdd/parallelize.ts'
export type { ActionOptions, ChunkFunction, CountByValueOptions, Rdd } from './rdd/rdd.ts'
export type { ShuffleOptions } from './rdd/shuffle-options.ts'
export type { ChunkSource } from './rdd/source-rdd.ts'
export { fromSource } from './rdd/source-rdd.ts'
export type { TaskContext } from './rdd/task-context.ts'
export type { Clock } from './scheduler/batch-clock.ts'
export type { BackpressureOptions, PidOptions, RateControlOptions } from './scheduler/rate-control-options.ts'
export type { SinkBatch, SinkOffsetRange } from './sinks/batch.ts'
export type { FileSink, FileSinkOptions, FileSinkWriter } from './sinks/file-sink.ts'
export { createFileSink } from './sinks/file-sink.ts'
export type { LostRecords } from './sinks/kafka-lost-records.ts'
export type { KafkaSink, KafkaSinkOptions, KafkaSinkTransaction } from './sinks/kafka-sink.ts'
export { createKafkaSink } from './sinks/kafka-sink.ts'
export type { BatchOutcome, ExactlyOnceSink, OffsetStoringSink, StoredOffsets } from './sinks/sink.ts'
export type { SinkBatchEvent, SinkBatchOutcome, SinkKind } from './sinks/sink-diagnostics.ts'
export { sinkBatchChannelName } from './sinks/sink-diagnostics.ts'
export type { QueryResult, Row } from './sinks/sql/engine.ts'
export type { LostRange } from './sinks/sql/offsets-table.ts'
export type { RowValues, UpsertOptions } from './sinks/sql/row-writes.ts'
export type { SqlSink, SqlTransaction } from './sinks/sql/sql-sink.ts'
export { createSqlSink } from './sinks/sql/sql-sink.ts'
export type { PostgresOptions, SqliteOptions, SqlSinkOptions } from './sinks/sql/sql-sink-options.ts'
export type { CreateRddOptions, KafkaReadOptions } from './source/create-rdd.ts'
export { createRDD } from './source/create-rdd.ts'
export type { Deserializer, Deserializers } from './source/deserializers.ts'
export type { DirectKafkaInputDStream, DirectStreamOptions } from './source/direct-stream.ts'
export { createDirectStream } from './source/direct-stream.ts'
export type { KafkaRDD } from './source/kafka-rdd.ts'
export type { SubscriptionOptions } from './source/partition-discovery.ts'
export type { QueueInputDStream, QueueStreamOptions } from './source/queue-stream.ts'
export { queueStream } from './source/queue-stream.ts'
export type { PartitionSpan, ReceivedBlock, WalHandle } from './source/receiver/received-block.ts'
export type { ReceivedBlockRdd } from './source/receiver/received-block-rdd.ts'
export type { ReceiverBlockEvent } from './source/receiver/receiver-diagnostics.ts'
export { receiverBlockChannelName } from './source/receiver/receiver-diagnostics.ts'
export type { ReceiverInputDStream, ReceiverStats } from './source/receiver/receiver-input-dstream.ts'
export { createReceiverStream } from './source/receiver/receiver-input-dstream.ts'
export type { ReceiverStreamOptions, WriteAheadLogOptions } from './source/receiver/receiver-options.ts'
export type { RecoveryReport } from './source/receiver/recovery-report.ts'
export type { StartingOffsets } from './source/starting-offsets.ts'
export type { DeserializationErrorPolicy } from './source/undecodable-records.ts'
export type { Batch, BatchInfo, BatchRef, FailedBatchInfo } from './stream/batch.ts'
export type {
  BatchProgress,
  OutputProgress,
  PartitionProgress,
  SourceProgress,
} from './stream/batch-progress.ts'
export type { StopOptions, StreamingContextOptions, UiOptions } from './stream/context-options.ts'
export type { BatchFunction, DStream, MapWithStateDStream, PrintOptions } from './stream/dstream.ts'
export type {
  BatchStartedEvent,
  BatchSubmittedEvent,
  OutputOperationCompletedEvent,
  OutputOperationStartedEvent,
  SourcePosition,
  StreamingListener,
  StreamingStartedEvent,
  StreamingStoppedEvent,
} from './stream/listener.ts'
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
export { StreamingContext } from './stream/streaming-context.ts'
