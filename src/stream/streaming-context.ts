import { CheckpointStore, type RecoveryView } from '../checkpoint/checkpoint-store.ts'
import type { JsonObject, JsonValue } from '../checkpoint/json-value.ts'
import type { PlannedBatch } from '../checkpoint/planned-batch.ts'
import { ErrorCodes, messageOf, SluiceError } from '../core/errors.ts'
import type { Logger } from '../core/logger.ts'
import { OffsetRange } from '../kafka/offset-range.ts'
import { TaskRunner } from '../rdd/task-runner.ts'
import { BatchClock, waitUntil } from '../scheduler/batch-clock.ts'
import type { Batch, BatchInfo, BatchRef, StreamingListener } from './batch.ts'
import { batchFailed } from './batch-errors.ts'
import {
  isGracefulStop,
  type ResolvedContextOptions,
  resolveContextOptions,
  type StopOptions,
  type StreamingContextOptions,
} from './context-options.ts'
import type { BatchFunction, DStream } from './dstream.ts'
import type { InputBatch, InputDStream, InputPlan } from './input-dstream.ts'
import { type BatchHooks, collectHooks } from './stream-hooks.ts'

/** A StreamingContext's lifecycle: 'initialized' until `start()`, 'active' while batches run, 'stopped' for good. */
export type ContextState = 'initialized' | 'active' | 'stopped'

interface OutputOperation {
  readonly stream: DStream<unknown>
  readonly fn: BatchFunction<unknown>
  readonly name: string
}

/** A batch whose plans are known: planned now, or read back from the checkpoint. */
interface PlannedScope {
  readonly ref: BatchRef
  readonly replay: boolean
  readonly plans: ReadonlyMap<InputDStream<unknown>, InputPlan>
}

/** Checkpoint prunes run every this many batches: a directory listing per batch is wasted work. */
const pruneEvery = 10

/** Committed batches a restart recomputes, without outputs, to rebuild state (issue 5). */
interface Recompute {
  readonly from: number
  readonly to: number
}

/**
 * The driver of a streaming job. Every `batchInterval` it asks each input for the next
 * offset ranges, durably records them in the checkpoint's offset log, runs every output
 * operation on the batch's RDDs, and records the batch as committed. One batch runs at a
 * time. After a crash, `start()` re-runs the planned-but-uncommitted batch with exactly its
 * recorded ranges before planning anything new.
 */
export class StreamingContext {
  readonly appName: string
  readonly batchInterval: number
  readonly checkpointDir: string | undefined
  readonly runner: TaskRunner
  readonly logger: Logger
  readonly #options: ResolvedContextOptions
  readonly #inputs: InputDStream<unknown>[] = []
  readonly #outputs: OutputOperation[] = []
  readonly #listeners: StreamingListener[] = []
  readonly #scopes = new Map<number, PlannedScope>()
  readonly #wake = new AbortController()
  readonly #termination: PromiseWithResolvers<void> = Promise.withResolvers<void>()
  #state: ContextState = 'initialized'
  #store: CheckpointStore | undefined
  #batchAbort: AbortController | undefined
  #stopRequested: 'graceful' | 'forced' | undefined
  #history = 0
  /** Windows and stateful streams feeding the outputs, parents first (issue 5). */
  #hooks: readonly BatchHooks[] = []
  #loop: Promise<void> | undefined
  #removeSignalHandlers: (() => void) | undefined

  constructor(options: StreamingContextOptions) {
    this.#options = resolveContextOptions(options)
    this.appName = this.#options.appName
    this.batchInterval = this.#options.batchInterval
    this.checkpointDir = this.#options.checkpoint
    this.logger = this.#options.logger
    this.runner = new TaskRunner({
      ...(this.#options.taskConcurrency === undefined ? {} : { concurrency: this.#options.taskConcurrency }),
      ...(this.#options.maxTaskAttempts === undefined ? {} : { maxAttempts: this.#options.maxTaskAttempts }),
      logger: this.logger,
    })
    // awaitTermination() may never be called; a failure must not become an unhandled rejection.
    this.#termination.promise.catch(() => {})
  }

  get state(): ContextState {
    return this.#state
  }

  addListener(listener: StreamingListener): void {
    this.#listeners.push(listener)
  }

  /**
   * Opens the checkpoint (taking its lock), lets every input decide where it starts, and
   * starts the batch clock. Resolves once running; failures of later batches surface
   * through `awaitTermination()`.
   */
  async start(): Promise<void> {
    if (this.#state !== 'initialized') {
      throw new SluiceError(ErrorCodes.CLOSED, `StreamingContext '${this.appName}' was already started`)
    }
    if (this.#outputs.length === 0) {
      throw new SluiceError(
        ErrorCodes.INVALID_ARGUMENT,
        'the StreamingContext has no output operation: call foreachBatch() or print() on a stream first',
      )
    }
    this.#state = 'active'
    this.#history = Math.max(...this.#outputs.map((o) => o.stream.historyBatches()))
    this.#hooks = collectHooks(this.#outputs.map((o) => o.stream))
    for (const output of this.#outputs) output.stream.rememberBatches(0)
    let pending: PlannedScope | undefined
    let recompute: Recompute | undefined
    let nextBatchId = 0
    try {
      const view = await this.#openCheckpoint()
      const latest = view?.latestEntry
      for (const input of this.#inputs) {
        const lastRanges = latest ? this.#rangesOf(input, latest) : undefined
        const state = inputMetadata(latest, input.name)?.state
        await input.open({
          ...(lastRanges ? { lastRanges } : {}),
          ...(state === undefined ? {} : { state }),
        })
      }
      // Issue 5: stateful streams load their newest usable snapshot (or refuse to start, saying
      // why); the committed batches after it are recomputed before the pending batch runs.
      const recomputeFrom = await this.#recoverHooks(view)
      if (view) {
        nextBatchId = view.nextBatchId
        const committed = view.lastCommittedBatchId
        if (recomputeFrom !== undefined && committed !== undefined && recomputeFrom <= committed) {
          recompute = { from: recomputeFrom, to: committed }
        }
        await this.#loadHistory(view, recompute?.from)
        if (view.pendingBatch) {
          pending = this.#scopes.get(view.pendingBatch.batchId)
          this.logger.warn('re-running a batch that was planned but not committed before the last stop', {
            batchId: view.pendingBatch.batchId,
          })
        }
      }
    } catch (error) {
      await this.#release()
      this.#state = 'stopped'
      this.#termination.reject(error)
      throw error
    }
    this.#installSignalHandlers()
    this.#loop = this.#run(nextBatchId, pending, recompute)
  }

  /**
   * Stops the stream. Graceful (the default): the running batch finishes and commits, then
   * the stream stops. Forced: the running batch is abandoned uncommitted (a restart re-runs it).
   */
  async stop(options: StopOptions = {}): Promise<void> {
    const graceful = isGracefulStop(options)
    if (this.#state === 'initialized') {
      this.#state = 'stopped'
      this.#termination.resolve()
      return
    }
    if (this.#state === 'stopped') return this.#termination.promise.catch(() => {})
    this.#stopRequested = !graceful || this.#stopRequested === 'forced' ? 'forced' : 'graceful'
    this.#wake.abort()
    if (this.#stopRequested === 'forced') this.#batchAbort?.abort(new Error('the stream was stopped'))
    await this.#loop
    await this.#termination.promise.catch(() => {})
  }

  /** Resolves when the stream stops; rejects with the error that stopped it. */
  awaitTermination(): Promise<void> {
    return this.#termination.promise
  }

  // ---- used by streams while the job is being defined ----

  /** @internal */
  checkNotStarted(what: string): void {
    if (this.#state !== 'initialized') {
      throw new SluiceError(ErrorCodes.INVALID_ARGUMENT, `cannot ${what} after the StreamingContext started`)
    }
  }

  /** @internal */
  registerInput(input: InputDStream<unknown>): void {
    this.checkNotStarted('add an input stream')
    if (this.#inputs.some((other) => other.name === input.name)) {
      throw new SluiceError(ErrorCodes.INVALID_ARGUMENT, `two input streams are named '${input.name}'`)
    }
    this.#inputs.push(input)
  }

  /** @internal */
  registerOutput<T>(stream: DStream<T>, fn: BatchFunction<T>, name: string): void {
    this.checkNotStarted('add an output operation')
    this.#outputs.push({ stream: stream as DStream<unknown>, fn: fn as BatchFunction<unknown>, name })
  }

  /** @internal The plan of an input for a batch, if the batch is known. */
  inputBatchOf(input: InputDStream<unknown>, batch: BatchRef): InputBatch | undefined {
    const plan = this.#scopes.get(batch.id)?.plans.get(input)
    if (!plan) return undefined
    return { ...batch, plan, signal: this.#batchAbort?.signal ?? new AbortController().signal }
  }

  /** @internal A known batch by id: the current one or one of the history windows need. */
  batchRefOf(id: number): BatchRef | undefined {
    return this.#scopes.get(id)?.ref
  }

  // ---- the batch loop ----

  async #run(
    firstBatchId: number,
    pending: PlannedScope | undefined,
    recompute: Recompute | undefined,
  ): Promise<void> {
    let failure: unknown
    try {
      if (recompute) await this.#recompute(recompute)
      // Issue 5: a stop during the rebuild leaves the state incomplete: run nothing on it.
      const rebuilt = recompute === undefined || this.#stopRequested === undefined
      if (pending && rebuilt) await this.#runBatch(pending)
      const clock = new BatchClock(Date.now(), this.batchInterval)
      let nextId = pending ? pending.ref.id + 1 : firstBatchId
      while (this.#stopRequested === undefined) {
        const time = clock.next()
        if (!(await waitUntil(time, this.#wake.signal))) break
        const scope = await this.#plan({ id: nextId++, time })
        await this.#runBatch(scope)
      }
    } catch (error) {
      if (this.#stopRequested !== 'forced') failure = error
    }
    await this.#release()
    this.#state = 'stopped'
    if (failure === undefined) {
      this.#termination.resolve()
      return
    }
    const error = failure instanceof SluiceError ? failure : batchFailed(undefined, undefined, failure)
    this.logger.error('the stream stopped because a batch failed', { error })
    for (const listener of this.#listeners) listener.onStreamError?.(error)
    this.#termination.reject(error)
  }

  /** Plans a new batch and records the plan durably before anything reads it. */
  async #plan(ref: BatchRef): Promise<PlannedScope> {
    const plans = new Map<InputDStream<unknown>, InputPlan>()
    for (const input of this.#inputs) plans.set(input, await input.plan(ref))
    const scope: PlannedScope = { ref, replay: false, plans }
    const inputs: JsonObject = {}
    for (const [input, plan] of plans) {
      const state = input.saveState()
      inputs[input.name] = { lostRecords: plan.lostRecords, ...(state === undefined ? {} : { state }) }
    }
    await this.#store?.writePlanned({
      batchId: ref.id,
      batchTime: ref.time,
      ranges: [...plans.values()].flatMap((plan) => plan.ranges),
      metadata: { inputs },
    })
    this.#scopes.set(ref.id, scope)
    return scope
  }

  async #runBatch(scope: PlannedScope): Promise<void> {
    const startedAt = Date.now()
    const { ref } = scope
    const offsetRanges = [...scope.plans.values()].flatMap((plan) => plan.ranges)
    this.#batchAbort = new AbortController()
    const { signal } = this.#batchAbort
    const batch: Batch = { ...ref, offsetRanges, replay: scope.replay, signal }
    this.#scopes.set(ref.id, scope)
    // A forced stop must not wait for user code that ignores the signal: the batch is
    // abandoned like a crash (uncommitted, replayed on restart) while that code finishes.
    const abandoned = new Promise<never>((_, reject) => {
      signal.addEventListener('abort', () => reject(signal.reason), { once: true })
    })
    abandoned.catch(() => {})
    for (const listener of this.#listeners) listener.onBatchStarted?.(batch)
    // Issue 5: windows and state compute what this batch holds (the state after it) first.
    try {
      for (const hooks of this.#hooks) {
        await hooks.beforeOutputs?.(ref, { replay: false, signal: this.#batchAbort.signal })
      }
    } catch (error) {
      throw batchFailed(batch, undefined, error)
    }
    for (const [index, output] of this.#outputs.entries()) {
      const rdd = output.stream.getOrCompute(ref)
      if (rdd === undefined) continue
      try {
        await Promise.race([output.fn(rdd, batch), abandoned])
      } catch (error) {
        throw batchFailed(batch, { index, name: output.name }, error)
      }
    }
    await this.#store?.writeCommitted(ref.id)
    // Issue 5: state snapshots are written after the commit (every checkpointInterval batches).
    for (const hooks of this.#hooks) await hooks.afterBatch?.(ref, { replay: false })
    const info: BatchInfo = {
      ...batch,
      records: offsetRanges.reduce((sum, range) => sum + range.count, 0),
      lostRecords: [...scope.plans.values()].reduce((sum, plan) => sum + plan.lostRecords, 0),
      schedulingDelay: scope.replay ? 0 : Math.max(0, startedAt - ref.time),
      processingTime: Date.now() - startedAt,
      startedAt,
      ...this.#stateMemory(),
    }
    for (const input of this.#inputs) input.onBatchCompleted(info)
    for (const listener of this.#listeners) listener.onBatchCompleted?.(info)
    this.#forget(ref.id)
    if (this.#store && ref.id % pruneEvery === 0) {
      await this.#store.prune({ keepFromBatchId: this.#keepFromBatchId(ref.id) })
    }
  }

  // ---- windows and state (issue 5) ----

  /** Lets every stateful stream load its state; returns the first committed batch to recompute. */
  async #recoverHooks(view: RecoveryView | undefined): Promise<number | undefined> {
    let from: number | undefined
    for (const hooks of this.#hooks) {
      const first = await hooks.recover?.({
        store: this.#store,
        lastCommittedBatchId: view?.lastCommittedBatchId,
        history: this.#history,
        logger: this.logger,
      })
      if (first !== undefined) from = Math.min(from ?? first, first)
    }
    return from
  }

  /**
   * Rebuilds state after a restart: recomputes the committed batches after the newest
   * snapshot from their logged ranges. Their outputs already happened, so none runs, no
   * listener hears of them, nothing is committed again.
   */
  async #recompute({ from, to }: Recompute): Promise<void> {
    const started = Date.now()
    this.logger.info('recomputing committed batches to rebuild state', { from, to })
    for (let id = from; id <= to && this.#stopRequested === undefined; id++) {
      const scope = this.#scopes.get(id)
      if (!scope)
        throw new SluiceError(ErrorCodes.STATE, `cannot recompute batch ${id}: its plan was not loaded`)
      this.#batchAbort = new AbortController()
      const { signal } = this.#batchAbort
      try {
        for (const hooks of this.#hooks) await hooks.beforeOutputs?.(scope.ref, { replay: true, signal })
      } catch (error) {
        throw new SluiceError(
          ErrorCodes.STATE,
          `recomputing committed batch ${id} to rebuild state failed: ${messageOf(error)}. A restart tries again`,
          { cause: error, details: { batchId: id, from, to } },
        )
      }
      for (const hooks of this.#hooks) await hooks.afterBatch?.(scope.ref, { replay: true })
      this.#forget(id)
    }
    this.logger.info('state rebuilt', { from, to, ms: Date.now() - started })
  }

  /** The oldest offset-log entry to keep: windows reach `history` back, state to its snapshots. */
  #keepFromBatchId(batchId: number): number {
    let keep = batchId - this.#history
    for (const hooks of this.#hooks) keep = Math.min(keep, hooks.oldestBatchNeeded?.() ?? keep)
    return Math.max(0, keep)
  }

  #stateMemory(): { stateKeys: number; stateBytes: number } {
    let stateKeys = 0
    let stateBytes = 0
    for (const hooks of this.#hooks) {
      const memory = hooks.memory?.()
      stateKeys += memory?.keys ?? 0
      stateBytes += memory?.bytes ?? 0
    }
    return { stateKeys, stateBytes }
  }

  /**
   * After batch `batchId`: plans are kept as far back as the longest window reads; each
   * stream keeps its RDDs as far back as its own consumers read them (issue 5).
   */
  #forget(batchId: number): void {
    for (const id of this.#scopes.keys()) if (id < batchId - this.#history) this.#scopes.delete(id)
    for (const output of this.#outputs) output.stream.forgetOld(batchId)
  }

  // ---- checkpoint and recovery ----

  async #openCheckpoint(): Promise<RecoveryView | undefined> {
    if (this.checkpointDir === undefined) return undefined
    this.#store = await CheckpointStore.open(this.checkpointDir, {
      appName: this.appName,
      retain: this.#options.checkpointRetain,
      logger: this.logger,
    })
    return this.#store.recover()
  }

  /**
   * Reads back the plans of the pending batch and of the batches windows still need — and,
   * with state to rebuild (issue 5), of the batches to recompute from `recomputeFrom` on.
   */
  async #loadHistory(view: RecoveryView, recomputeFrom?: number): Promise<void> {
    const latest = view.latestEntry
    if (!this.#store || !latest) return
    const first = Math.max(0, Math.min(latest.batchId, recomputeFrom ?? latest.batchId) - this.#history)
    const entries = await this.#store.readPlannedBatches(first, latest.batchId)
    for (const entry of entries) {
      const plans = new Map<InputDStream<unknown>, InputPlan>()
      for (const input of this.#inputs) {
        plans.set(input, {
          ranges: this.#rangesOf(input, entry),
          lostRecords: Number(inputMetadata(entry, input.name)?.lostRecords ?? 0),
        })
      }
      const replay = view.pendingBatch?.batchId === entry.batchId
      this.#scopes.set(entry.batchId, { ref: { id: entry.batchId, time: entry.batchTime }, replay, plans })
    }
  }

  /** The ranges of a checkpointed batch that belong to `input`; a range owned by two inputs is an error. */
  #rangesOf(input: InputDStream<unknown>, entry: PlannedBatch): OffsetRange[] {
    const ranges: OffsetRange[] = []
    for (const r of entry.ranges) {
      const range = OffsetRange.create(r.topic, r.partition, r.fromOffset, r.untilOffset)
      if (!input.owns(range)) continue
      const other = this.#inputs.find((i) => i !== input && i.owns(range))
      if (other) {
        throw new SluiceError(
          ErrorCodes.CHECKPOINT,
          `checkpointed range ${range} of batch ${entry.batchId} belongs to two inputs ('${input.name}' and '${other.name}'); give each input its own topics`,
        )
      }
      ranges.push(range)
    }
    return ranges
  }

  async #release(): Promise<void> {
    this.#removeSignalHandlers?.()
    this.#removeSignalHandlers = undefined
    const closing = this.#inputs.map((input) => input.close())
    if (this.#store) closing.push(this.#store.close())
    this.#store = undefined
    const results = await Promise.allSettled(closing)
    for (const result of results) {
      if (result.status === 'rejected')
        this.logger.warn('closing a stream resource failed', { error: result.reason })
    }
  }

  #installSignalHandlers(): void {
    if (!this.#options.stopOnSignals) return
    const onSignal = (signal: NodeJS.Signals) => {
      const forced = this.#stopRequested !== undefined
      this.logger.info(
        forced ? 'second signal: forcing the stop' : 'signal received: stopping after the running batch',
        {
          signal,
        },
      )
      void this.stop({ graceful: !forced })
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    this.#removeSignalHandlers = () => {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }
}

function inputMetadata(
  entry: PlannedBatch | undefined,
  name: string,
): { lostRecords?: JsonValue; state?: JsonValue } | undefined {
  const inputs = entry?.metadata?.inputs
  if (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs)) return undefined
  const own = inputs[name]
  return own !== null && typeof own === 'object' && !Array.isArray(own) ? own : undefined
}
