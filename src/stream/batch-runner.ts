import { AsyncLocalStorage } from 'node:async_hooks'
import type { CheckpointStore } from '../checkpoint/checkpoint-store.ts'
import { ErrorCodes, SluiceError } from '../core/errors.ts'
import type { Clock } from '../scheduler/batch-clock.ts'
import type { Batch, FailedBatchInfo } from './batch.ts'
import { batchFailed } from './batch-errors.ts'
import {
  type BatchMeasures,
  batchInfoOf,
  batchProgress,
  type OutputProgress,
  type ReadCounters,
} from './batch-progress.ts'
import type { InputDStream, InputSlice } from './input-dstream.ts'
import { type BatchScope, type KnownBatches, sourcesOf } from './known-batches.ts'
import type { ListenerBus } from './listener-bus.ts'
import { revalidated } from './recovery.ts'
import type { StopRequest } from './stop-request.ts'
import type { StreamGraph } from './stream-graph.ts'

/** Checkpoint prunes run every this many batches: a directory listing per batch is wasted work. */
const pruneEvery = 10

/**
 * Which context's output operation the current async code runs inside, so that `stop()`
 * called from an output can tell, and stop after the batch instead of waiting for itself.
 */
export const insideOutputOf = new AsyncLocalStorage<object>()

export interface BatchRunnerOptions {
  readonly app: string
  readonly batchInterval: number
  /** The context; marks output operations as its own (see insideOutputOf). */
  readonly owner: object
  readonly graph: StreamGraph
  readonly batches: KnownBatches
  readonly bus: ListenerBus
  readonly clock: Clock
  readonly stop: StopRequest
  readonly store: CheckpointStore | undefined
}

/**
 * Runs one planned batch to its commit: the state it needs, every output operation in
 * order, the commit log entry, the state snapshots due, and the BatchInfo (Spark's JobScheduler
 * and JobHandler, with one batch at a time). A failure stops at once: nothing after it runs,
 * nothing is committed, listeners hear of it, and the error (naming the batch) is thrown.
 */
export class BatchRunner {
  readonly #options: BatchRunnerOptions
  #completed = 0
  #batchAbort: AbortController | undefined

  constructor(options: BatchRunnerOptions) {
    this.#options = options
  }

  /** Batches committed so far. */
  get completed(): number {
    return this.#completed
  }

  /** The running batch's signal (aborts on a forced stop); the stop's own between batches. */
  get signal(): AbortSignal {
    return this.#batchAbort?.signal ?? this.#options.stop.forcedSignal
  }

  async run(planned: BatchScope): Promise<void> {
    // Each batch has its own signal, tied to the stop's for as long as the batch runs: the
    // listeners the batch's work adds go away with it instead of piling up on the context.
    const forced = this.#options.stop.forcedSignal
    const batchAbort = new AbortController()
    const onForcedStop = () => batchAbort.abort(forced.reason)
    if (forced.aborted) onForcedStop()
    else forced.addEventListener('abort', onForcedStop, { once: true })
    this.#batchAbort = batchAbort
    try {
      await this.#run(planned, batchAbort.signal)
    } finally {
      forced.removeEventListener('abort', onForcedStop)
      this.#batchAbort = undefined
    }
  }

  async #run(planned: BatchScope, signal: AbortSignal): Promise<void> {
    const { graph, batches, bus, clock, store } = this.#options
    // A batch planned by an earlier run starts now: its "planning" is checking that its
    // data is still there.
    const started = clock.now()
    let scope = planned.replay ? { ...planned, planningStartedAt: started, planningMs: 0 } : planned
    try {
      if (planned.replay) scope = { ...(await revalidated(scope)), planningMs: clock.now() - started }
    } catch (error) {
      throw this.#failed(scope, this.#measuresOf({ ...scope, planningMs: clock.now() - started }), error)
    }
    batches.set(scope)
    const { ref, replay } = scope
    let batch = batchOf(scope, signal)
    const measures = this.#measuresOf(scope)
    bus.post('onBatchSubmitted', {
      batchId: ref.id,
      batchTime: ref.time,
      replay,
      progress: batchProgress(measures),
    })
    // A forced stop must not wait for user code that ignores the signal: the batch is
    // abandoned like a crash (uncommitted, replayed on restart) while that code finishes.
    const abandoned = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason)
      signal.addEventListener('abort', () => reject(signal.reason), { once: true })
    })
    abandoned.catch(() => {})
    const workStarted = clock.now()
    measures.status = 'running'
    bus.post('onBatchStarted', { ...batch, batchId: ref.id, batchTime: ref.time, startedAt: workStarted })
    try {
      try {
        for (const hooks of graph.hooks) {
          await Promise.race([hooks.beforeOutputs?.(ref, { replay: false, signal }), abandoned])
        }
      } catch (error) {
        throw batchFailed(batch, undefined, error)
      }
      for (let withdrawals = 0; ; withdrawals++) {
        try {
          await this.#runOutputs(batch, measures, abandoned)
          break
        } catch (failure) {
          // An input that lost partitions (a rebalance) takes them out, and the outputs run
          // again on what it still owns; each round takes something out, so this ends.
          const revised = withdrawals < maxWithdrawals ? await withdrawn(scope, failure) : undefined
          if (revised === undefined) throw failure
          scope = revised
          batches.set(scope)
          graph.forgetBatch(ref)
          batch = batchOf(scope, signal)
          measures.sources = sourcesOf(scope).sources
        }
      }
      try {
        for (const slice of scope.slices.values()) {
          if (slice.beforeCommit) await Promise.race([slice.beforeCommit(), abandoned])
        }
      } catch (error) {
        throw batchFailed(batch, undefined, error)
      }
    } catch (error) {
      measures.durationsMs = { ...measures.durationsMs, outputs: clock.now() - workStarted }
      throw this.#failed(scope, measures, error)
    }
    const commitStarted = clock.now()
    measures.durationsMs = { ...measures.durationsMs, outputs: commitStarted - workStarted }
    await store?.writeCommitted(ref.id)
    // State snapshots are written after the commit (every checkpointInterval batches).
    for (const hooks of graph.hooks) await hooks.afterBatch?.(ref, { replay: false })
    this.#completed++
    measures.durationsMs = { ...measures.durationsMs, commit: clock.now() - commitStarted }
    measures.status = 'completed'
    measures.state = graph.stateMemory()
    measures.counters = readCounters(scope)
    const progress = batchProgress(measures)
    const info = batchInfoOf(batch, progress, scope.planningStartedAt)
    for (const [input, slice] of scope.slices) input.onBatchCompleted(info, slice.progress)
    for (const input of graph.inputs) if (!scope.slices.has(input)) input.onBatchCompleted(info, undefined)
    bus.post('onBatchCompleted', info)
    graph.forget(ref)
    batches.forgetBefore(ref.id - graph.history)
    const keepFromBatchId = graph.keepFromBatchId(ref.id)
    for (const input of graph.inputs) await input.releaseBefore(keepFromBatchId)
    if (store && ref.id % pruneEvery === 0) await store.prune({ keepFromBatchId })
  }

  /** Runs every output operation of the batch in order; the first failure is thrown, naming the batch. */
  async #runOutputs(
    batch: Batch,
    measures: Mutable<BatchMeasures>,
    abandoned: Promise<never>,
  ): Promise<void> {
    const { graph, bus, clock } = this.#options
    for (const [index, output] of graph.outputs.entries()) {
      const rdd = output.stream.getOrCompute(batch)
      if (rdd === undefined) continue
      const startedAt = clock.now()
      bus.post('onOutputOperationStarted', { batchId: batch.id, index, name: output.name, startedAt })
      let failure: SluiceError | undefined
      try {
        await insideOutputOf.run(this.#options.owner, () => Promise.race([output.fn(rdd, batch), abandoned]))
      } catch (error) {
        failure = batchFailed(batch, { index, name: output.name }, error)
      }
      const durationMs = clock.now() - startedAt
      measures.outputs.push({
        index,
        name: output.name,
        durationMs,
        ...(failure ? { error: failure.message } : {}),
      })
      bus.post('onOutputOperationCompleted', {
        batchId: batch.id,
        index,
        name: output.name,
        startedAt,
        durationMs,
        ...(failure ? { error: failure } : {}),
      })
      if (failure) throw failure
    }
  }

  #measuresOf(scope: BatchScope): Mutable<BatchMeasures> {
    return {
      app: this.#options.app,
      batchId: scope.ref.id,
      batchTime: scope.ref.time,
      replay: scope.replay,
      status: 'submitted',
      batchInterval: this.#options.batchInterval,
      sources: sourcesOf(scope).sources,
      schedulingDelayMs: scope.replay ? 0 : Math.max(0, scope.planningStartedAt - scope.ref.time),
      durationsMs: { planning: scope.planningMs, outputs: 0, commit: 0 },
      outputs: [],
      counters: { skippedRecords: 0, deadLetteredRecords: 0 },
      state: { keys: 0, bytes: 0 },
    }
  }

  /** The error to stop with; listeners hear of a failure, not of a batch a forced stop abandoned. */
  #failed(scope: BatchScope, measures: Mutable<BatchMeasures>, error: unknown): unknown {
    if (this.#options.stop.kind === 'forced') return error
    const sluiceError =
      error instanceof SluiceError
        ? error
        : new SluiceError(ErrorCodes.BATCH_FAILED, String(error), { cause: error })
    measures.status = 'failed'
    measures.state = this.#options.graph.stateMemory()
    measures.counters = readCounters(scope)
    measures.error = { code: sluiceError.code, message: sluiceError.message }
    const info: FailedBatchInfo = {
      batchId: scope.ref.id,
      batchTime: scope.ref.time,
      replay: scope.replay,
      error: sluiceError,
      progress: batchProgress(measures),
    }
    this.#options.bus.post('onBatchFailed', info)
    return sluiceError
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] } & { outputs: OutputProgress[] }

/** How often one batch's outputs are run again after inputs withdrew partitions from it. */
const maxWithdrawals = 3

/**
 * What an output operation is told about the batch: its ranges from every slice, the owner
 * of the partitions (when processes share them), and a signal that aborts on a forced stop
 * or when a slice's partitions are being taken away.
 */
function batchOf(scope: BatchScope, stopSignal: AbortSignal): Batch {
  const { offsetRanges, lostRanges, deadLetters } = sourcesOf(scope)
  const slices = [...scope.slices.values()]
  const owner = slices.find((slice) => slice.owner !== undefined)?.owner
  const signals = slices.flatMap((slice) => (slice.signal === undefined ? [] : [slice.signal]))
  const signal = signals.length === 0 ? stopSignal : AbortSignal.any([stopSignal, ...signals])
  return {
    ...scope.ref,
    offsetRanges,
    lostRanges,
    replay: scope.replay,
    signal,
    deadLetters,
    ...(owner === undefined ? {} : { owner }),
  }
}

/**
 * The scope with the slices its inputs revised after `failure` (partitions they no longer
 * own taken out), or undefined when no input takes the failure as its own.
 */
async function withdrawn(scope: BatchScope, failure: unknown): Promise<BatchScope | undefined> {
  let changed = false
  const slices = new Map<InputDStream<unknown>, InputSlice<unknown>>()
  for (const [input, slice] of scope.slices) {
    const revised = await input.withdraw(slice, failure, scope.ref)
    slices.set(input, revised ?? slice)
    if (revised !== undefined) changed = true
  }
  return changed ? { ...scope, slices } : undefined
}

function readCounters(scope: BatchScope): ReadCounters {
  let skippedRecords = 0
  let deadLetteredRecords = 0
  for (const slice of scope.slices.values()) {
    const counters = slice.readCounters?.()
    skippedRecords += counters?.skippedRecords ?? 0
    deadLetteredRecords += counters?.deadLetteredRecords ?? 0
  }
  return { skippedRecords, deadLetteredRecords }
}
