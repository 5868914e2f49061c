import type { SluiceError } from '../core/errors.ts'
import type { DeadLetters } from '../kafka/dead-letters.ts'
import type { OffsetRange } from '../kafka/offset-range.ts'
import type { PartitionOwner } from '../kafka/partition-owner.ts'
import type { BatchProgress } from './batch-progress.ts'

// Listeners moved to listener.ts; this keeps `import type { StreamingListener } from './batch.ts'` working.
export type { StreamingListener } from './listener.ts'

/** Identifies a batch: ids count up from 0 across restarts; time is the batch's due time (ms). */
export interface BatchRef {
  readonly id: number
  readonly time: number
}

/** What an output operation is told about the batch it handles. */
export interface Batch extends BatchRef {
  /** The Kafka offset ranges the batch reads, over every Kafka input of the job. */
  readonly offsetRanges: readonly OffsetRange[]
  /**
   * Ranges the batch skips because retention deleted them before they were read (only with
   * `failOnDataLoss: false`; empty otherwise). For a partition, its lost range ends where its
   * offset range begins: together they cover everything from the previous batch's
   * until-offset to this batch's, so a sink that stores offsets advances over both.
   */
  readonly lostRanges: readonly OffsetRange[]
  /**
   * True when an earlier run planned this batch and died before committing it: the same
   * ranges are being processed again. Idempotent or transactional outputs use this to tell a
   * replay (expected) from a second live instance (a zombie).
   */
  readonly replay: boolean
  /**
   * Aborts when the stream is stopped with `{ graceful: false }`, and when the batch's
   * partitions are being taken away from this process (a consumer group rebalance that could
   * not wait for it). Pass it to long work in an output operation; sinks roll back when it
   * aborts. The stream does not wait for the outputs of a batch a forced stop abandoned.
   */
  readonly signal: AbortSignal
  /**
   * When processes share the input's partitions (createDirectStream's `group` or `split`):
   * this process's fencing token for the batch's partitions. The SQL and Kafka sinks refuse
   * the batch if a newer owner has claimed them.
   */
  readonly owner?: PartitionOwner | undefined
  /**
   * The records of this batch that could not be deserialized and go to a dead-letter topic
   * (`onDeserializationError: { deadLetterTopic }`), found as its data is read. The Kafka sink
   * sends them in the batch's transaction (exactly once); the stream sends the rest before it
   * commits the batch (at least once).
   */
  readonly deadLetters: DeadLetters
}

/** Reported to listeners after every committed batch: what it read and how long it took. */
export interface BatchInfo extends Batch {
  /** Records the batch read (for Kafka: offsets covered by its ranges). */
  readonly records: number
  /** Records skipped because retention deleted them first (only with failOnDataLoss: false). */
  readonly lostRecords: number
  /** Records left out because they could not be deserialized (`onDeserializationError: 'skip'`). */
  readonly skippedRecords: number
  /** Records that could not be deserialized and went to the dead-letter topic. */
  readonly deadLetteredRecords: number
  /** How late planning started relative to the batch's due time, in ms (0 for a replay). */
  readonly schedulingDelay: number
  /** From the start of planning to the commit of the batch, in ms. */
  readonly processingTime: number
  /** schedulingDelay + processingTime: how long after its due time the batch was done, in ms. */
  readonly totalDelay: number
  /** ms since epoch when processing (planning) started. */
  readonly startedAt: number
  /** Keys held by the job's stateful streams (updateStateByKey, mapWithState) after the batch. */
  readonly stateKeys: number
  /**
   * Approximate heap bytes of that state: keys × an estimated size per entry, from a sample
   * of the entries each batch changes and a model of V8's object layout. Off by up to 2x;
   * for trends, not accounting (see docs/windows-and-state.md).
   */
  readonly stateBytes: number
  /** Everything above and per input and partition, as plain JSON (docs/progress.md). */
  readonly progress: BatchProgress
}

/** Reported to listeners when a batch fails; the stream stops after it. */
export interface FailedBatchInfo {
  readonly batchId: number
  readonly batchTime: number
  readonly replay: boolean
  readonly error: SluiceError
  readonly progress: BatchProgress
}
