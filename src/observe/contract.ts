// TEMPORARY: the listener events and progress record of /work/notes/progress-contract.md,
// which the stream layer is adding. Until they land, observe is written against this copy;
// once src/stream exports them, this file goes and the imports point at src/stream.
import type { SluiceError } from '../core/errors.ts'
import type { BatchInfo as CurrentBatchInfo } from '../stream/batch.ts'

export interface PartitionProgress {
  readonly topic: string
  readonly partition: number
  readonly fromOffset: string
  readonly untilOffset: string
  readonly latestOffset: string | null
  readonly lag: string | null
  readonly records: number
}

export interface SourceProgress {
  readonly input: string
  readonly kind: string
  readonly description: string
  readonly rateLimit: number | null
  readonly numInputRecords: number
  readonly lostRecords: number
  readonly partitions: readonly PartitionProgress[]
}

export interface BatchProgress {
  readonly app: string
  readonly batchId: number
  readonly batchTime: string
  readonly batchTimeMs: number
  readonly replay: boolean
  readonly status: 'submitted' | 'running' | 'completed' | 'failed'
  readonly numInputRecords: number
  readonly inputRecordsPerSecond: number
  readonly processedRecordsPerSecond: number
  readonly schedulingDelayMs: number
  readonly processingTimeMs: number
  readonly totalDelayMs: number
  readonly durationsMs: { readonly planning: number; readonly outputs: number; readonly commit: number }
  readonly outputs: readonly {
    readonly index: number
    readonly name: string
    readonly durationMs: number
    readonly error?: string
  }[]
  readonly sources: readonly SourceProgress[]
  readonly lostRecords: number
  readonly skippedRecords: number
  readonly deadLetteredRecords: number
  readonly state: { readonly keys: number; readonly bytes: number }
  readonly error?: { readonly code: string; readonly message: string }
}

export interface StreamingStartedEvent {
  readonly app: string
  readonly time: number
  readonly batchInterval: number
  readonly checkpoint: string | null
  readonly resumedFrom: readonly unknown[]
  readonly recovered: { readonly pendingBatchId: number | null; readonly recomputedBatches: number }
}

export interface StreamingStoppedEvent {
  readonly app: string
  readonly time: number
  readonly graceful: boolean
  readonly error?: SluiceError
  readonly batchesCompleted: number
}

export interface BatchSubmittedEvent {
  readonly batchId: number
  readonly batchTime: number
  readonly replay: boolean
  readonly progress: BatchProgress
}

export interface BatchStartedEvent {
  readonly batchId: number
  readonly batchTime: number
  readonly replay: boolean
  readonly startedAt: number
}

export interface OutputOperationStartedEvent {
  readonly batchId: number
  readonly index: number
  readonly name: string
  readonly startedAt: number
}

export interface OutputOperationCompletedEvent extends OutputOperationStartedEvent {
  readonly durationMs: number
  readonly error?: SluiceError
}

export interface BatchInfo extends CurrentBatchInfo {
  readonly totalDelay: number
  readonly progress: BatchProgress
}

export interface FailedBatchInfo {
  readonly batchId: number
  readonly batchTime: number
  readonly replay: boolean
  readonly error: SluiceError
  readonly progress: BatchProgress
}

export interface StreamingListener {
  onStreamingStarted?(event: StreamingStartedEvent): void
  onStreamingStopped?(event: StreamingStoppedEvent): void
  onBatchSubmitted?(event: BatchSubmittedEvent): void
  onBatchStarted?(event: BatchStartedEvent): void
  onBatchCompleted?(info: BatchInfo): void
  onBatchFailed?(info: FailedBatchInfo): void
  onOutputOperationStarted?(event: OutputOperationStartedEvent): void
  onOutputOperationCompleted?(event: OutputOperationCompletedEvent): void
}
