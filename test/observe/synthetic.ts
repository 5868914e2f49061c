// Listener events built by hand, for testing the history, the metrics and the API without a
// running job: a job of one Kafka input over `partitions` partitions.
import { ErrorCodes, SluiceError } from '../../src/core/errors.ts'
import { noDeadLetters } from '../../src/kafka/dead-letters.ts'
import type { BatchInfo, FailedBatchInfo } from '../../src/stream/batch.ts'
import { type BatchProgress, batchInfoOf, type SourceProgress } from '../../src/stream/batch-progress.ts'
import type { BatchStartedEvent } from '../../src/stream/listener.ts'

export interface SyntheticBatch {
  readonly app?: string
  readonly batchId: number
  readonly batchInterval?: number
  /** Records per partition; the batch reads [id·n, (id+1)·n) of each. */
  readonly perPartition?: readonly number[]
  /** Records each partition has beyond the batch's until-offset (null: latest unknown). Default 50. */
  readonly lag?: readonly (number | null)[]
  readonly schedulingDelayMs?: number
  readonly processingTimeMs?: number
  readonly rateLimit?: number | null
  readonly replay?: boolean
  readonly lostRecords?: number
  readonly skippedRecords?: number
  readonly deadLetteredRecords?: number
  readonly state?: { keys: number; bytes: number }
  readonly outputs?: BatchProgress['outputs']
  readonly startMs?: number
}

export const syntheticStart = Date.UTC(2026, 10, 2, 9, 0, 0)

export function syntheticProgress(batch: SyntheticBatch): BatchProgress {
  const interval = batch.batchInterval ?? 1000
  const perPartition = batch.perPartition ?? [100, 100]
  const partitions = perPartition.map((n, partition) => {
    const from = BigInt(batch.batchId * n)
    const until = from + BigInt(n)
    const lag = batch.lag?.[partition] === undefined ? 50 : batch.lag[partition]
    return {
      topic: 'words',
      partition,
      fromOffset: String(from),
      untilOffset: String(until),
      latestOffset: lag === null ? null : String(until + BigInt(lag)),
      lag: lag === null ? null : String(lag),
      records: n,
    }
  })
  const records = perPartition.reduce((a, b) => a + b, 0)
  const scheduling = batch.schedulingDelayMs ?? 5
  const processing = batch.processingTimeMs ?? 200
  const batchTimeMs = (batch.startMs ?? syntheticStart) + batch.batchId * interval
  const source: SourceProgress = {
    input: 'words',
    kind: 'kafka-direct',
    description: partitions.map((p) => `words-${p.partition} [${p.fromOffset}, ${p.untilOffset})`).join(' '),
    rateLimit: batch.rateLimit ?? null,
    numInputRecords: records,
    lostRecords: batch.lostRecords ?? 0,
    partitions,
  }
  return {
    app: batch.app ?? 'synthetic',
    batchId: batch.batchId,
    batchTime: new Date(batchTimeMs).toISOString(),
    batchTimeMs,
    replay: batch.replay ?? false,
    status: 'completed',
    numInputRecords: records,
    inputRecordsPerSecond: records / (interval / 1000),
    processedRecordsPerSecond: processing === 0 ? 0 : records / (processing / 1000),
    schedulingDelayMs: scheduling,
    processingTimeMs: processing,
    totalDelayMs: scheduling + processing,
    durationsMs: { planning: 10, outputs: processing - 20, commit: 10 },
    outputs: batch.outputs ?? [{ index: 0, name: 'foreachBatch', durationMs: processing - 20 }],
    sources: [source],
    lostRecords: batch.lostRecords ?? 0,
    skippedRecords: batch.skippedRecords ?? 0,
    deadLetteredRecords: batch.deadLetteredRecords ?? 0,
    state: batch.state ?? { keys: 0, bytes: 0 },
  }
}

/** The BatchInfo a listener hears when the batch commits. */
export function syntheticInfo(batch: SyntheticBatch): BatchInfo {
  const progress = syntheticProgress(batch)
  const ref = {
    id: progress.batchId,
    time: progress.batchTimeMs,
    offsetRanges: [],
    lostRanges: [],
    replay: progress.replay,
    signal: new AbortController().signal,
    deadLetters: noDeadLetters,
  }
  return batchInfoOf(ref, progress, progress.batchTimeMs + progress.schedulingDelayMs)
}

/** What a listener hears when batch `batchId` (planned at the synthetic start) starts its work. */
export function syntheticStarted(batchId: number, startedAt: number): BatchStartedEvent {
  const batchTime = syntheticProgress({ batchId }).batchTimeMs
  return {
    batchId,
    batchTime,
    replay: false,
    startedAt,
    id: batchId,
    time: batchTime,
    offsetRanges: [],
    lostRanges: [],
    signal: new AbortController().signal,
    deadLetters: noDeadLetters,
  }
}

/** What a listener hears when a batch fails in its first output. */
export function syntheticFailure(batch: SyntheticBatch, message: string): FailedBatchInfo {
  const error = new SluiceError(ErrorCodes.BATCH_FAILED, message, { details: { batchId: batch.batchId } })
  const progress = syntheticProgress(batch)
  return {
    batchId: batch.batchId,
    batchTime: progress.batchTimeMs,
    replay: false,
    error,
    progress: {
      ...progress,
      status: 'failed',
      outputs: [{ index: 0, name: 'foreachBatch', durationMs: 12, error: message }],
      error: { code: error.code, message },
    },
  }
}
