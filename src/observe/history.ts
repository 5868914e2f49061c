import type { BatchInfo, FailedBatchInfo } from '../stream/batch.ts'
import type { BatchProgress } from '../stream/batch-progress.ts'
import type {
  BatchStartedEvent,
  BatchSubmittedEvent,
  OutputOperationCompletedEvent,
  OutputOperationStartedEvent,
  StreamingListener,
  StreamingStartedEvent,
  StreamingStoppedEvent,
} from '../stream/listener.ts'
import { Ring } from './ring.ts'

/** Where the job stands, as the UI's header shows it. */
export type JobStatus = 'starting' | 'active' | 'stopped' | 'failed'

/** An output operation of a batch that has not finished yet. */
export interface ActiveOutput {
  readonly index: number
  readonly name: string
  readonly startedAt: number
  durationMs: number | null
  error: string | null
}

/** A batch planned (and durably logged) but not yet committed or failed. */
export interface ActiveBatch {
  readonly batchId: number
  readonly batchTimeMs: number
  readonly replay: boolean
  status: 'submitted' | 'running'
  readonly submittedAt: number
  startedAt: number | null
  /** The progress record as planned: sources, ranges, latest offsets; durations still 0. */
  readonly planned: BatchProgress | null
  readonly outputs: ActiveOutput[]
}

export interface JobTotals {
  batchesCompleted: number
  batchesFailed: number
  batchesReplayed: number
  records: number
  lostRecords: number
  skippedRecords: number
  deadLetteredRecords: number
}

/** What a change to the history was, for live pages (they fetch what they show from the API). */
export interface HistoryChange {
  readonly seq: number
  readonly kind: 'started' | 'stopped' | 'submitted' | 'running' | 'output' | 'completed' | 'failed'
  readonly batchId: number | null
}

export interface JobHistoryOptions {
  readonly app: string
  readonly batchInterval: number
  /** Finished batches kept (completed and failed); older ones are dropped. */
  readonly historySize: number
  /** The context's own view of its state, which wins over what the events said. */
  readonly contextState?: () => 'initialized' | 'active' | 'stopped'
  readonly now?: () => number
}

/**
 * Everything the UI and the JSON API show about one job, fed by listener events. Finished
 * batches live in a ring of `historySize` progress records; totals count from the start.
 * Memory is therefore bounded by the ring (plus the few batches in flight), however long the
 * job runs.
 */
export class JobHistory implements StreamingListener {
  readonly app: string
  readonly batchInterval: number
  readonly finished: Ring<BatchProgress>
  readonly active = new Map<number, ActiveBatch>()
  readonly totals: JobTotals = {
    batchesCompleted: 0,
    batchesFailed: 0,
    batchesReplayed: 0,
    records: 0,
    lostRecords: 0,
    skippedRecords: 0,
    deadLetteredRecords: 0,
  }
  /** When the history started listening; replaced by the started event's time. */
  startedAt: number
  stoppedAt: number | null = null
  /** Wall time at which the newest batch completed; null before the first. */
  lastCompletedAt: number | null = null
  checkpoint: string | null = null
  resumedFrom: readonly unknown[] = []
  recovered: StreamingStartedEvent['recovered'] | null = null
  error: { readonly code: string; readonly message: string } | null = null
  /** The batch whose failure stopped the stream, if one did. */
  failedBatchId: number | null = null
  readonly #now: () => number
  readonly #contextState: (() => 'initialized' | 'active' | 'stopped') | undefined
  readonly #watchers = new Set<(change: HistoryChange) => void>()
  #seq = 0
  #status: JobStatus = 'starting'

  constructor(options: JobHistoryOptions) {
    this.app = options.app
    this.batchInterval = options.batchInterval
    this.finished = new Ring(options.historySize)
    this.#now = options.now ?? Date.now
    this.#contextState = options.contextState
    this.startedAt = this.#now()
  }

  get status(): JobStatus {
    if (this.error) return 'failed'
    switch (this.#contextState?.()) {
      case 'active':
        return 'active'
      case 'stopped':
        return 'stopped'
      case 'initialized':
        return 'starting'
      default:
        return this.#status
    }
  }

  now(): number {
    return this.#now()
  }

  /** The newest completed batch, if any is kept. */
  lastCompleted(): BatchProgress | undefined {
    return this.finished.find((batch) => batch.status === 'completed')
  }

  /** Calls `watcher` after every change; returns the function that stops it. */
  watch(watcher: (change: HistoryChange) => void): () => void {
    this.#watchers.add(watcher)
    return () => this.#watchers.delete(watcher)
  }

  // ---- listener events ----

  onStreamingStarted(event: StreamingStartedEvent): void {
    this.startedAt = event.time
    this.stoppedAt = null
    this.checkpoint = event.checkpoint
    this.resumedFrom = event.resumedFrom
    this.recovered = event.recovered
    this.#status = 'active'
    this.#changed('started', null)
  }

  onStreamingStopped(event: StreamingStoppedEvent): void {
    this.stoppedAt = event.time
    if (event.error) this.error = { code: event.error.code, message: event.error.message }
    this.#status = event.error ? 'failed' : 'stopped'
    // A forced stop abandons the running batch uncommitted; it is no longer in flight.
    this.active.clear()
    this.#changed('stopped', null)
  }

  onBatchSubmitted(event: BatchSubmittedEvent): void {
    this.active.set(event.batchId, {
      batchId: event.batchId,
      batchTimeMs: event.batchTime,
      replay: event.replay,
      status: 'submitted',
      submittedAt: this.#now(),
      startedAt: null,
      planned: event.progress,
      outputs: [],
    })
    this.#changed('submitted', event.batchId)
  }

  onBatchStarted(event: BatchStartedEvent): void {
    const batch = this.active.get(event.batchId) ?? {
      batchId: event.batchId,
      batchTimeMs: event.batchTime,
      replay: event.replay,
      status: 'running' as const,
      submittedAt: event.startedAt,
      startedAt: null,
      planned: null,
      outputs: [],
    }
    batch.status = 'running'
    batch.startedAt = event.startedAt
    this.active.set(event.batchId, batch)
    this.#changed('running', event.batchId)
  }

  onOutputOperationStarted(event: OutputOperationStartedEvent): void {
    const batch = this.active.get(event.batchId)
    if (!batch) return
    batch.outputs.push({
      index: event.index,
      name: event.name,
      startedAt: event.startedAt,
      durationMs: null,
      error: null,
    })
    this.#changed('output', event.batchId)
  }

  onOutputOperationCompleted(event: OutputOperationCompletedEvent): void {
    const output = this.active.get(event.batchId)?.outputs.find((o) => o.index === event.index)
    if (!output) return
    output.durationMs = event.durationMs
    output.error = event.error ? event.error.message : null
    this.#changed('output', event.batchId)
  }

  onBatchCompleted(info: BatchInfo): void {
    const progress = info.progress
    this.active.delete(progress.batchId)
    this.finished.push(progress)
    this.lastCompletedAt = this.#now()
    const totals = this.totals
    totals.batchesCompleted++
    if (progress.replay) totals.batchesReplayed++
    totals.records += progress.numInputRecords
    totals.lostRecords += progress.lostRecords
    totals.skippedRecords += progress.skippedRecords
    totals.deadLetteredRecords += progress.deadLetteredRecords
    this.#changed('completed', progress.batchId)
  }

  onBatchFailed(info: FailedBatchInfo): void {
    this.active.delete(info.batchId)
    const error = info.progress.error ?? { code: info.error.code, message: info.error.message }
    this.finished.push({ ...info.progress, status: 'failed', error })
    this.totals.batchesFailed++
    this.error = error
    this.failedBatchId = info.batchId
    this.#changed('failed', info.batchId)
  }

  #changed(kind: HistoryChange['kind'], batchId: number | null): void {
    const change: HistoryChange = { seq: ++this.#seq, kind, batchId }
    for (const watcher of this.#watchers) watcher(change)
  }
}
