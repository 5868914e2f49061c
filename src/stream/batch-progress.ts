import type { Batch, BatchInfo } from './batch.ts'

/**
 * The progress record of one batch: plain JSON (offsets as decimal strings, times as ms and
 * ISO text), modelled on Structured Streaming's StreamingQueryProgress. The UI, the metrics
 * and the logs read it; docs/progress.md describes every field.
 */
export interface BatchProgress {
  readonly app: string
  readonly batchId: number
  /** The batch's due time, ISO-8601. */
  readonly batchTime: string
  readonly batchTimeMs: number
  readonly replay: boolean
  readonly status: 'submitted' | 'running' | 'completed' | 'failed'
  readonly numInputRecords: number
  /** numInputRecords per second of batch interval. */
  readonly inputRecordsPerSecond: number
  /** numInputRecords per second of processing time; 0 while the processing time is 0 ms. */
  readonly processedRecordsPerSecond: number
  readonly schedulingDelayMs: number
  /** Planning start to commit. */
  readonly processingTimeMs: number
  /** schedulingDelayMs + processingTimeMs. */
  readonly totalDelayMs: number
  readonly durationsMs: { readonly planning: number; readonly outputs: number; readonly commit: number }
  readonly outputs: readonly OutputProgress[]
  readonly sources: readonly SourceProgress[]
  /** Records retention deleted before they were read (failOnDataLoss: false). */
  readonly lostRecords: number
  /** Undecodable records skipped by the 'skip' policy. */
  readonly skippedRecords: number
  /** Undecodable records sent to a dead-letter topic. */
  readonly deadLetteredRecords: number
  readonly state: { readonly keys: number; readonly bytes: number }
  /** Why the batch failed (failed batches only). */
  readonly error?: { readonly code: string; readonly message: string }
}

/** One output operation's part of a batch. */
export interface OutputProgress {
  /** Position among the job's output operations, from 0. */
  readonly index: number
  readonly name: string
  readonly durationMs: number
  /** The failure's message, when this output failed. */
  readonly error?: string
}

/** One input's part of a batch. */
export interface SourceProgress {
  /** The input's stable name. */
  readonly input: string
  /** 'kafka-direct' | 'kafka-receiver' | 'queue' | ... */
  readonly kind: string
  /** What the batch reads from it, e.g. "words-0 [0, 100) words-1 [0, 97)". */
  readonly description: string
  /** Stream-wide records/s limit in force when the batch was planned; null when unlimited. */
  readonly rateLimit: number | null
  readonly numInputRecords: number
  readonly lostRecords: number
  /** Per Kafka partition; empty for inputs without partitions. */
  readonly partitions: readonly PartitionProgress[]
}

/** One Kafka partition's part of a batch: its range, and how far behind the log it leaves the stream. */
export interface PartitionProgress {
  readonly topic: string
  readonly partition: number
  readonly fromOffset: string
  readonly untilOffset: string
  /** The partition's latest offset (the last stable one under read_committed) seen when planning. */
  readonly latestOffset: string | null
  /** latestOffset − untilOffset: records left behind after this batch. */
  readonly lag: string | null
  readonly records: number
}

/** Counters only known once a batch's data was read (undecodable records and what became of them). */
export interface ReadCounters {
  readonly skippedRecords: number
  readonly deadLetteredRecords: number
}

/** What the driver measured of a batch so far. */
export interface BatchMeasures {
  readonly app: string
  readonly batchId: number
  readonly batchTime: number
  readonly replay: boolean
  readonly status: BatchProgress['status']
  readonly batchInterval: number
  readonly sources: readonly SourceProgress[]
  readonly schedulingDelayMs: number
  readonly durationsMs: BatchProgress['durationsMs']
  readonly outputs: readonly OutputProgress[]
  readonly counters: ReadCounters
  readonly state: BatchProgress['state']
  readonly error?: { readonly code: string; readonly message: string }
}

/**
 * What listeners hear of a committed batch: the batch, the figures of its progress record
 * under BatchInfo's names, and the record itself. `startedAt` is when its planning began.
 */
export function batchInfoOf(batch: Batch, progress: BatchProgress, startedAt: number): BatchInfo {
  return {
    ...batch,
    records: progress.numInputRecords,
    lostRecords: progress.lostRecords,
    skippedRecords: progress.skippedRecords,
    deadLetteredRecords: progress.deadLetteredRecords,
    schedulingDelay: progress.schedulingDelayMs,
    processingTime: progress.processingTimeMs,
    totalDelay: progress.totalDelayMs,
    startedAt,
    stateKeys: progress.state.keys,
    stateBytes: progress.state.bytes,
    progress,
  }
}

export function batchProgress(m: BatchMeasures): BatchProgress {
  const numInputRecords = sum(m.sources.map((s) => s.numInputRecords))
  const processingTimeMs = m.durationsMs.planning + m.durationsMs.outputs + m.durationsMs.commit
  return {
    app: m.app,
    batchId: m.batchId,
    batchTime: new Date(m.batchTime).toISOString(),
    batchTimeMs: m.batchTime,
    replay: m.replay,
    status: m.status,
    numInputRecords,
    inputRecordsPerSecond: perSecond(numInputRecords, m.batchInterval),
    processedRecordsPerSecond: perSecond(numInputRecords, processingTimeMs),
    schedulingDelayMs: m.schedulingDelayMs,
    processingTimeMs,
    totalDelayMs: m.schedulingDelayMs + processingTimeMs,
    durationsMs: m.durationsMs,
    outputs: m.outputs,
    sources: m.sources,
    lostRecords: sum(m.sources.map((s) => s.lostRecords)),
    skippedRecords: m.counters.skippedRecords,
    deadLetteredRecords: m.counters.deadLetteredRecords,
    state: m.state,
    ...(m.error === undefined ? {} : { error: m.error }),
  }
}

/** Records left behind after the batch over every partition that knows its lag, or null when none does. */
export function totalLag(progress: BatchProgress): number | null {
  let lag: bigint | undefined
  for (const source of progress.sources) {
    for (const partition of source.partitions) {
      if (partition.lag !== null) lag = (lag ?? 0n) + BigInt(partition.lag)
    }
  }
  return lag === undefined ? null : Number(lag)
}

function perSecond(records: number, ms: number): number {
  return ms > 0 ? (records * 1000) / ms : 0
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0)
}
