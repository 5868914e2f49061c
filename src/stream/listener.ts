import type { SluiceError } from '../core/errors.ts'
import type { Batch, BatchInfo, FailedBatchInfo } from './batch.ts'
import type { BatchProgress } from './batch-progress.ts'

/**
 * Receives the life of a StreamingContext, as Spark's StreamingListener does. Every method
 * is optional. Listeners are called in registration order, synchronously from the driver;
 * one that throws (or returns a rejected promise) is logged at warn with the event's name
 * and never disturbs the stream. A listener that does slow work should hand it off rather
 * than hold the driver up.
 */
export interface StreamingListener {
  onStreamingStarted?(event: StreamingStartedEvent): void
  /** The stream stopped: on request (graceful or forced) or because a batch failed (`error`). */
  onStreamingStopped?(event: StreamingStoppedEvent): void
  /** The batch's plan is durably logged (or, for a replay, read back) and the batch is queued. */
  onBatchSubmitted?(event: BatchSubmittedEvent): void
  /** The batch's work is about to start: its first output operation (with the state it needs) runs next. */
  onBatchStarted?(event: BatchStartedEvent): void
  /** The batch is committed. */
  onBatchCompleted?(info: BatchInfo): void
  /** The batch failed; the stream stops after this. */
  onBatchFailed?(info: FailedBatchInfo): void
  onOutputOperationStarted?(event: OutputOperationStartedEvent): void
  onOutputOperationCompleted?(event: OutputOperationCompletedEvent): void
}

/** Where an input resumes reading when the stream starts. */
export interface SourcePosition {
  readonly input: string
  readonly kind: string
  /** True when the checkpoint had no position for the input: it starts where its options say. */
  readonly fresh: boolean
  /** Human-readable, e.g. "words-0 @ 120, words-1 @ 97". */
  readonly description: string
  /** Per Kafka partition, the next offset to read (decimal string); empty for other inputs. */
  readonly offsets: readonly { readonly topic: string; readonly partition: number; readonly offset: string }[]
}

/** The stream is running: recovery is done and the first batch comes next. */
export interface StreamingStartedEvent {
  readonly app: string
  /** ms since the epoch. */
  readonly time: number
  readonly batchInterval: number
  /** The checkpoint directory, or null without one. */
  readonly checkpoint: string | null
  readonly resumedFrom: readonly SourcePosition[]
  readonly recovered: {
    /** The planned-but-uncommitted batch that is re-run first, if any. */
    readonly pendingBatchId: number | null
    /** Committed batches recomputed, without outputs, to rebuild state. */
    readonly recomputedBatches: number
  }
}

/** The stream stopped; nothing follows. */
export interface StreamingStoppedEvent {
  readonly app: string
  readonly time: number
  /** False when the running batch was abandoned (forced stop, or a graceful stop that timed out). */
  readonly graceful: boolean
  /** Why the stream stopped, when a failure stopped it. */
  readonly error?: SluiceError
  /** Batches committed since start. */
  readonly batchesCompleted: number
}

/** A batch's plan is durably logged (a replay's read back) and the batch is queued to run. */
export interface BatchSubmittedEvent {
  readonly batchId: number
  readonly batchTime: number
  readonly replay: boolean
  /** Planning fields filled; durations still 0. */
  readonly progress: BatchProgress
}

/**
 * The contract's fields (`batchId`, `batchTime`, `replay`, `startedAt`), and the whole Batch
 * too (`id`, `time`, `offsetRanges`, `lostRanges`, `signal`), for listeners that mark the
 * moment a batch starts.
 */
export interface BatchStartedEvent extends Batch {
  readonly batchId: number
  readonly batchTime: number
  readonly replay: boolean
  /** ms since the epoch. */
  readonly startedAt: number
}

/** An output operation of a batch (foreachBatch, print...) starts. */
export interface OutputOperationStartedEvent {
  readonly batchId: number
  /** Position among the job's output operations, from 0. */
  readonly index: number
  readonly name: string
  readonly startedAt: number
}

/** An output operation of a batch finished, or failed (`error`). */
export interface OutputOperationCompletedEvent extends OutputOperationStartedEvent {
  readonly durationMs: number
  /** Set when the output operation failed. */
  readonly error?: SluiceError
}
