// The JSON documents of the UI's API (/api/...), built from a JobHistory. Plain data only:
// offsets stay decimal strings as in BatchProgress; everything else is a number, a string,
// a boolean or null. docs/ui.md describes each document field by field.
import { partitionKey } from '../core/partition-key.ts'
import type { BatchProgress } from '../stream/batch-progress.ts'
import type { ActiveBatch, JobHistory, JobStatus } from './history.ts'
import type { Readiness } from './readiness.ts'

export interface AppDocument {
  readonly app: string
  readonly status: JobStatus
  readonly ready: Readiness
  readonly startedAt: string
  readonly startedAtMs: number
  readonly stoppedAtMs: number | null
  readonly uptimeMs: number
  readonly batchInterval: number
  readonly checkpoint: string | null
  readonly historySize: number
  readonly batches: {
    readonly completed: number
    readonly failed: number
    readonly replayed: number
    readonly active: number
    readonly kept: number
  }
  readonly records: {
    readonly total: number
    readonly lost: number
    readonly skipped: number
    readonly deadLettered: number
  }
  /** From the newest completed batch; null before the first. */
  readonly last: {
    readonly batchId: number
    readonly batchTimeMs: number
    readonly inputRecordsPerSecond: number
    readonly totalDelayMs: number
    readonly lag: number | null
    readonly rateLimit: number | null
    readonly stateKeys: number
    readonly stateBytes: number
  } | null
  /** Why the stream stopped, when a failure stopped it; batchId names the batch that failed, if one did. */
  readonly error: { readonly code: string; readonly message: string; readonly batchId: number | null } | null
  readonly recovered: { readonly pendingBatchId: number | null; readonly recomputedBatches: number } | null
  readonly resumedFrom: readonly unknown[]
}

/** One row of a batch table. */
export interface BatchSummary {
  readonly batchId: number
  readonly batchTimeMs: number
  readonly status: BatchProgress['status']
  readonly replay: boolean
  readonly numInputRecords: number
  readonly inputRecordsPerSecond: number
  readonly schedulingDelayMs: number | null
  readonly processingTimeMs: number | null
  readonly totalDelayMs: number | null
  /** Output operations finished, and how many of them failed. */
  readonly outputs: { readonly done: number; readonly failed: number }
  /** Records behind latest after the batch, over every partition with a known latest offset. */
  readonly lag: number | null
  readonly error: { readonly code: string; readonly message: string } | null
}

export type BatchStatusFilter = 'finished' | 'completed' | 'failed' | 'active'

export interface BatchPage {
  readonly status: BatchStatusFilter
  readonly total: number
  readonly offset: number
  readonly limit: number
  readonly items: readonly BatchSummary[]
}

/** A batch's page: its full progress record, and for a batch in flight, what it has done so far. */
export interface BatchDocument {
  readonly progress: BatchProgress | null
  readonly status: BatchProgress['status']
  readonly batchId: number
  readonly batchTimeMs: number
  readonly startedAtMs: number | null
  readonly outputs: readonly {
    readonly index: number
    readonly name: string
    readonly durationMs: number | null
    readonly outcome: 'running' | 'succeeded' | 'failed'
    readonly error: string | null
  }[]
}

/** Columns of per-batch figures, oldest first, over the completed batches kept. */
export interface StatisticsDocument {
  readonly batchInterval: number
  readonly batches: number
  readonly batchId: readonly number[]
  readonly batchTimeMs: readonly number[]
  readonly records: readonly number[]
  readonly inputRate: readonly number[]
  readonly schedulingDelayMs: readonly number[]
  readonly processingTimeMs: readonly number[]
  readonly totalDelayMs: readonly number[]
  readonly lag: readonly (number | null)[]
  readonly rateLimit: readonly (number | null)[]
  readonly stateKeys: readonly number[]
  readonly stateBytes: readonly number[]
  readonly averages: {
    readonly inputRate: number | null
    readonly schedulingDelayMs: number | null
    readonly processingTimeMs: number | null
    readonly totalDelayMs: number | null
  }
}

export interface PartitionRow {
  readonly input: string
  readonly topic: string
  readonly partition: number
  /** Until-offset of the newest completed batch: the next batch reads from here. */
  readonly committedOffset: string
  readonly latestOffset: string | null
  readonly lag: string | null
  /** Records the newest completed batch read from the partition. */
  readonly lastBatchRecords: number
  /** Records read from the partition over the completed batches kept. */
  readonly recordsKept: number
}

export interface PartitionsDocument {
  readonly asOfBatchId: number | null
  readonly partitions: readonly PartitionRow[]
  /** Lag after each completed batch kept, per partition (null where the partition had no known latest offset). */
  readonly timeline: {
    readonly batchId: readonly number[]
    readonly batchTimeMs: readonly number[]
    readonly series: readonly {
      readonly input: string
      readonly topic: string
      readonly partition: number
      readonly lag: readonly (number | null)[]
    }[]
  }
  /** Rate limit in force per input, per batch (null: unlimited). */
  readonly rateLimits: readonly { readonly input: string; readonly rateLimit: readonly (number | null)[] }[]
}

export function appDocument(history: JobHistory, ready: Readiness): AppDocument {
  const last = history.lastCompleted()
  const now = history.now()
  const { totals } = history
  return {
    app: history.app,
    status: history.status,
    ready,
    startedAt: new Date(history.startedAt).toISOString(),
    startedAtMs: history.startedAt,
    stoppedAtMs: history.stoppedAt,
    uptimeMs: (history.stoppedAt ?? now) - history.startedAt,
    batchInterval: history.batchInterval,
    checkpoint: history.checkpoint,
    historySize: history.finished.capacity,
    batches: {
      completed: totals.batchesCompleted,
      failed: totals.batchesFailed,
      replayed: totals.batchesReplayed,
      active: history.active.size,
      kept: history.finished.size,
    },
    records: {
      total: totals.records,
      lost: totals.lostRecords,
      skipped: totals.skippedRecords,
      deadLettered: totals.deadLetteredRecords,
    },
    last: last
      ? {
          batchId: last.batchId,
          batchTimeMs: last.batchTimeMs,
          inputRecordsPerSecond: last.inputRecordsPerSecond,
          totalDelayMs: last.totalDelayMs,
          lag: totalLag(last),
          rateLimit: totalRateLimit(last),
          stateKeys: last.state.keys,
          stateBytes: last.state.bytes,
        }
      : null,
    error: history.error ? { ...history.error, batchId: history.failedBatchId } : null,
    recovered: history.recovered,
    resumedFrom: history.resumedFrom,
  }
}

export function batchSummary(progress: BatchProgress): BatchSummary {
  return {
    batchId: progress.batchId,
    batchTimeMs: progress.batchTimeMs,
    status: progress.status,
    replay: progress.replay,
    numInputRecords: progress.numInputRecords,
    inputRecordsPerSecond: progress.inputRecordsPerSecond,
    schedulingDelayMs: progress.schedulingDelayMs,
    processingTimeMs: progress.processingTimeMs,
    totalDelayMs: progress.totalDelayMs,
    outputs: {
      done: progress.outputs.length,
      failed: progress.outputs.filter((o) => o.error !== undefined).length,
    },
    lag: totalLag(progress),
    error: progress.error ?? null,
  }
}

function activeSummary(batch: ActiveBatch, now: number): BatchSummary {
  const planned = batch.planned
  const done = batch.outputs.filter((o) => o.durationMs !== null)
  return {
    batchId: batch.batchId,
    batchTimeMs: batch.batchTimeMs,
    status: batch.status,
    replay: batch.replay,
    numInputRecords: planned?.numInputRecords ?? 0,
    inputRecordsPerSecond: planned?.inputRecordsPerSecond ?? 0,
    schedulingDelayMs: batch.startedAt === null ? null : Math.max(0, batch.startedAt - batch.batchTimeMs),
    processingTimeMs: batch.startedAt === null ? null : Math.max(0, now - batch.startedAt),
    totalDelayMs: null,
    outputs: { done: done.length, failed: done.filter((o) => o.error !== null).length },
    lag: planned ? totalLag(planned) : null,
    error: null,
  }
}

export function batchPage(
  history: JobHistory,
  status: BatchStatusFilter,
  offset: number,
  limit: number,
): BatchPage {
  if (status === 'active') {
    const active = [...history.active.values()].sort((a, b) => b.batchId - a.batchId)
    const now = history.now()
    return {
      status,
      total: active.length,
      offset,
      limit,
      items: active.slice(offset, offset + limit).map((batch) => activeSummary(batch, now)),
    }
  }
  if (status === 'finished') {
    return {
      status,
      total: history.finished.size,
      offset,
      limit,
      items: history.finished.page(offset, limit).map(batchSummary),
    }
  }
  // Newest first over the ring, keeping only one status.
  const matching = history.finished.page(0, history.finished.size).filter((b) => b.status === status)
  return {
    status,
    total: matching.length,
    offset,
    limit,
    items: matching.slice(offset, offset + limit).map(batchSummary),
  }
}

export function batchDocument(history: JobHistory, batchId: number): BatchDocument | undefined {
  const active = history.active.get(batchId)
  if (active) {
    return {
      progress: active.planned,
      status: active.status,
      batchId,
      batchTimeMs: active.batchTimeMs,
      startedAtMs: active.startedAt,
      outputs: active.outputs.map((o) => ({
        index: o.index,
        name: o.name,
        durationMs: o.durationMs,
        outcome: o.durationMs === null ? 'running' : o.error === null ? 'succeeded' : 'failed',
        error: o.error,
      })),
    }
  }
  const progress = history.finished.find((b) => b.batchId === batchId)
  if (!progress) return undefined
  return {
    progress,
    status: progress.status,
    batchId,
    batchTimeMs: progress.batchTimeMs,
    startedAtMs: progress.batchTimeMs + progress.schedulingDelayMs,
    outputs: progress.outputs.map((o) => ({
      index: o.index,
      name: o.name,
      durationMs: o.durationMs,
      outcome: o.error === undefined ? 'succeeded' : 'failed',
      error: o.error ?? null,
    })),
  }
}

export function statisticsDocument(history: JobHistory, limit: number): StatisticsDocument {
  const batches = completedOldestFirst(history, limit)
  const column = <T>(pick: (b: BatchProgress) => T): T[] => batches.map(pick)
  const average = (values: readonly number[]) =>
    values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length
  const inputRate = column((b) => b.inputRecordsPerSecond)
  const schedulingDelayMs = column((b) => b.schedulingDelayMs)
  const processingTimeMs = column((b) => b.processingTimeMs)
  const totalDelayMs = column((b) => b.totalDelayMs)
  return {
    batchInterval: history.batchInterval,
    batches: batches.length,
    batchId: column((b) => b.batchId),
    batchTimeMs: column((b) => b.batchTimeMs),
    records: column((b) => b.numInputRecords),
    inputRate,
    schedulingDelayMs,
    processingTimeMs,
    totalDelayMs,
    lag: column(totalLag),
    rateLimit: column(totalRateLimit),
    stateKeys: column((b) => b.state.keys),
    stateBytes: column((b) => b.state.bytes),
    averages: {
      inputRate: average(inputRate),
      schedulingDelayMs: average(schedulingDelayMs),
      processingTimeMs: average(processingTimeMs),
      totalDelayMs: average(totalDelayMs),
    },
  }
}

export function partitionsDocument(history: JobHistory, limit: number): PartitionsDocument {
  const batches = completedOldestFirst(history, limit)
  const last = batches.at(-1)
  const key = (input: string, topic: string, partition: number) =>
    `${input}\u0000${partitionKey(topic, partition)}`
  const series = new Map<
    string,
    { input: string; topic: string; partition: number; lag: (number | null)[]; records: number }
  >()
  const rateLimits = new Map<string, (number | null)[]>()
  batches.forEach((batch, index) => {
    for (const source of batch.sources) {
      let limits = rateLimits.get(source.input)
      if (!limits) {
        limits = new Array<number | null>(batches.length).fill(null)
        rateLimits.set(source.input, limits)
      }
      limits[index] = source.rateLimit
      for (const p of source.partitions) {
        const k = key(source.input, p.topic, p.partition)
        let row = series.get(k)
        if (!row) {
          row = {
            input: source.input,
            topic: p.topic,
            partition: p.partition,
            lag: new Array(batches.length).fill(null),
            records: 0,
          }
          series.set(k, row)
        }
        row.lag[index] = p.lag === null ? null : Number(p.lag)
        row.records += p.records
      }
    }
  })
  const partitions: PartitionRow[] = []
  for (const source of last?.sources ?? []) {
    for (const p of source.partitions) {
      partitions.push({
        input: source.input,
        topic: p.topic,
        partition: p.partition,
        committedOffset: p.untilOffset,
        latestOffset: p.latestOffset,
        lag: p.lag,
        lastBatchRecords: p.records,
        recordsKept: series.get(key(source.input, p.topic, p.partition))?.records ?? 0,
      })
    }
  }
  const ordered = [...series.values()].sort(
    (a, b) => a.input.localeCompare(b.input) || a.topic.localeCompare(b.topic) || a.partition - b.partition,
  )
  return {
    asOfBatchId: last?.batchId ?? null,
    partitions,
    timeline: {
      batchId: batches.map((b) => b.batchId),
      batchTimeMs: batches.map((b) => b.batchTimeMs),
      series: ordered.map(({ input, topic, partition, lag }) => ({ input, topic, partition, lag })),
    },
    rateLimits: [...rateLimits].map(([input, rateLimit]) => ({ input, rateLimit })),
  }
}

/** The newest `limit` completed batches, oldest first (failed ones carry no full durations). */
function completedOldestFirst(history: JobHistory, limit: number): BatchProgress[] {
  const out: BatchProgress[] = []
  for (let age = 0; age < history.finished.size && out.length < limit; age++) {
    const batch = history.finished.newest(age)!
    if (batch.status === 'completed') out.push(batch)
  }
  return out.reverse()
}

/** Records behind latest after the batch, summed over the partitions whose latest offset is known. */
export function totalLag(progress: BatchProgress): number | null {
  let lag: number | null = null
  for (const source of progress.sources) {
    for (const p of source.partitions) if (p.lag !== null) lag = (lag ?? 0) + Number(p.lag)
  }
  return lag
}

/** The job's rate limit: the sum over limited inputs, null when no input is limited. */
function totalRateLimit(progress: BatchProgress): number | null {
  let limit: number | null = null
  for (const source of progress.sources)
    if (source.rateLimit !== null) limit = (limit ?? 0) + source.rateLimit
  return limit
}
