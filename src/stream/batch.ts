import type { SluiceError } from '../core/errors.ts'
import type { OffsetRange } from '../kafka/offset-range.ts'

/** Identifies a batch: ids count up from 0 across restarts; time is the batch's due time (ms). */
export interface BatchRef {
  readonly id: number
  readonly time: number
}

/** What an output operation is told about the batch it handles. */
export interface Batch extends BatchRef {
  /** Every input range of the batch: the whole description of its data. */
  readonly offsetRanges: readonly OffsetRange[]
  /**
   * True when an earlier run planned this batch and died before committing it: the same
   * ranges are being processed again. Idempotent or transactional outputs use this to tell a
   * replay (expected) from a second live instance (a zombie).
   */
  readonly replay: boolean
  /**
   * Aborts when the stream is stopped with `{ graceful: false }`. Pass it to long work in an
   * output operation; the stream does not wait for an aborted batch's outputs.
   */
  readonly signal: AbortSignal
}

/** Reported to listeners after every batch: what it read and how long it took. */
export interface BatchInfo extends Batch {
  /** Offsets covered by the batch's ranges (records, when offsets are consecutive). */
  readonly records: number
  /** Records skipped because retention deleted them first (only with failOnDataLoss: false). */
  readonly lostRecords: number
  /** How late the batch started relative to its due time, in ms. */
  readonly schedulingDelay: number
  /** From the start of planning to the commit of the batch, in ms. */
  readonly processingTime: number
  /** ms since epoch when processing started. */
  readonly startedAt: number
  /** Keys held by the job's stateful streams (updateStateByKey, mapWithState) after the batch. */
  readonly stateKeys: number
  /**
   * Approximate heap bytes of that state: keys × an estimated size per entry, from a sample
   * of the entries each batch changes and a model of V8's object layout. Off by up to 2x;
   * for trends, not accounting (see docs/windows-and-state.md).
   */
  readonly stateBytes: number
}

/** Receives the progress of a StreamingContext; the UI and metrics read it from here. */
export interface StreamingListener {
  onBatchStarted?(batch: Batch): void
  onBatchCompleted?(info: BatchInfo): void
  /** The stream stopped because a batch failed. */
  onStreamError?(error: SluiceError): void
}
