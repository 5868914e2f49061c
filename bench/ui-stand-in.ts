// A stand-in for a benchmark job's web UI, served from another process: the UI and metrics of
// a job that does nothing but replay, batch after batch, the listener events of one real batch
// of the job. While the job runs with its UI off, the watcher follows the stand-in, so the
// machine carries the same load (a page and a scraper watching a UI, the UI answering them)
// whether the job's UI is on or off; what differs is only whether that UI runs in the job.
//
// The recorder runs in the job: it keeps the job's started event and the events of one batch
// after warm-up, with their times relative to the batch's submission, as JSON. The stand-in
// runs in the watcher's process and attaches sluice's observability to a context of its own
// that only replays those events, one batch per period of the job.

import { createLogger } from '../src/core/logger.ts'
import type { Observability } from '../src/observe/index.ts'
import { attachObservability } from '../src/observe/index.ts'
import type { BatchInfo } from '../src/stream/batch.ts'
import type { StreamingListener } from '../src/stream/listener.ts'
import type { StreamingContext } from '../src/stream/streaming-context.ts'

type EventName = Exclude<keyof StreamingListener, 'onStreamingStarted' | 'onStreamingStopped'>

/** The events of one batch of a job, and how often the job completes a batch. */
export interface BatchRecording {
  readonly app: string
  readonly batchInterval: number
  /** The median time between the job's batch completions during warm-up, ms. */
  readonly periodMs: number
  readonly started: unknown
  readonly events: readonly { readonly name: EventName; readonly atMs: number; readonly event: unknown }[]
}

/** Plain JSON of a listener event: offsets as strings, the batch's abort signal left out. */
function plain(event: unknown): unknown {
  return JSON.parse(
    JSON.stringify(event, (key, value: unknown) =>
      key === 'signal' ? undefined : typeof value === 'bigint' ? value.toString() : value,
    ),
  )
}

/**
 * Records the job's started event and every event of the `recordedBatch`-th batch with
 * records, then removes itself. `recording` resolves once that batch completed.
 */
export class BatchRecorder implements StreamingListener {
  readonly recording: Promise<BatchRecording>
  readonly #context: StreamingContext
  readonly #recordedBatch: number
  #started: unknown
  #completions: number[] = []
  #batchId: number | undefined
  #submittedAt = 0
  readonly #events: BatchRecording['events'][number][] = []
  #resolve!: (recording: BatchRecording) => void

  constructor(context: StreamingContext, recordedBatch: number) {
    this.#context = context
    this.#recordedBatch = recordedBatch
    this.recording = new Promise((resolve) => {
      this.#resolve = resolve
    })
    context.addListener(this)
  }

  onStreamingStarted(event: unknown): void {
    this.#started = plain(event)
  }

  onBatchSubmitted(event: { batchId: number }): void {
    if (this.#batchId === undefined && this.#completions.length === this.#recordedBatch) {
      this.#batchId = event.batchId
      this.#submittedAt = performance.now()
    }
    this.#keep('onBatchSubmitted', event)
  }

  onBatchStarted(event: { batchId: number }): void {
    this.#keep('onBatchStarted', event)
  }

  onOutputOperationStarted(event: { batchId: number }): void {
    this.#keep('onOutputOperationStarted', event)
  }

  onOutputOperationCompleted(event: { batchId: number }): void {
    this.#keep('onOutputOperationCompleted', event)
  }

  onBatchCompleted(info: BatchInfo): void {
    this.#keep('onBatchCompleted', info, info.id)
    if (info.records === 0 && this.#batchId === undefined) return
    this.#completions.push(performance.now())
    if (info.id !== this.#batchId) return
    this.#context.removeListener(this)
    const gaps = this.#completions.slice(1).map((at, i) => at - this.#completions[i]!)
    gaps.sort((a, b) => a - b)
    this.#resolve({
      app: this.#context.appName,
      batchInterval: this.#context.batchInterval,
      periodMs: gaps[gaps.length >> 1] ?? this.#context.batchInterval,
      started: this.#started,
      events: this.#events,
    })
  }

  #keep(name: EventName, event: unknown, batchId = (event as { batchId: number }).batchId): void {
    if (batchId !== this.#batchId) return
    this.#events.push({ name, atMs: performance.now() - this.#submittedAt, event: plain(event) })
  }
}

const batchIdKeys = new Set(['batchId', 'id'])
const timeKeys = new Set(['batchTime', 'batchTimeMs', 'startedAt', 'time'])

/** `event` as if it belonged to batch `batchId`, `shiftMs` later than recorded. */
function moved(event: unknown, batchId: number, shiftMs: number): unknown {
  if (Array.isArray(event)) return event.map((item) => moved(item, batchId, shiftMs))
  if (event === null || typeof event !== 'object') return event
  const copy: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(event)) {
    if (batchIdKeys.has(key) && typeof value === 'number') copy[key] = batchId
    else if (timeKeys.has(key) && typeof value === 'number') copy[key] = value + shiftMs
    else if (key === 'batchTime' && typeof value === 'string')
      copy[key] = new Date(Date.parse(value) + shiftMs).toISOString()
    else copy[key] = moved(value, batchId, shiftMs)
  }
  return copy
}

/** A UI of its own fed with the recorded batch once per period; `close()` stops both. */
export async function startStandIn(recording: BatchRecording): Promise<Observability> {
  const listeners = new Set<StreamingListener>()
  const context = {
    appName: recording.app,
    batchInterval: recording.batchInterval,
    logger: createLogger({ level: 'error' }),
    state: 'active',
    addListener: (listener: StreamingListener) => listeners.add(listener),
    removeListener: (listener: StreamingListener) => listeners.delete(listener),
  }
  const ui = await attachObservability(context as unknown as StreamingContext, { port: 0 })
  const emit = (name: keyof StreamingListener, event: unknown) => {
    for (const listener of listeners)
      (listener[name] as ((e: unknown) => void) | undefined)?.call(listener, event)
  }
  const firstBatch = (recording.events[0]!.event as { batchId: number }).batchId
  const recordedAt = (recording.events[0]!.event as { batchTime: number }).batchTime
  emit('onStreamingStarted', moved(recording.started, firstBatch, Date.now() - recordedAt))
  const timers = new Set<NodeJS.Timeout>()
  let batches = 0
  const replay = () => {
    const batchId = firstBatch + batches++
    const shiftMs = Date.now() - recordedAt
    for (const { name, atMs, event } of recording.events) {
      const timer = setTimeout(() => {
        timers.delete(timer)
        emit(name, moved(event, batchId, shiftMs))
      }, atMs)
      timers.add(timer)
    }
  }
  replay()
  const ticker = setInterval(replay, recording.periodMs)
  return {
    url: ui.url,
    history: ui.history,
    async close() {
      clearInterval(ticker)
      for (const timer of timers) clearTimeout(timer)
      await ui.close()
    },
  }
}
