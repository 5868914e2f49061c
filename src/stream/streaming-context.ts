import { ErrorCodes, SluiceError } from '../core/errors.ts'
import type { Logger } from '../core/logger.ts'
import { TaskRunner } from '../rdd/task-runner.ts'
import type { Clock } from '../scheduler/batch-clock.ts'
import type { BatchRef } from './batch.ts'
import { batchFailed } from './batch-errors.ts'
import { BatchLoop } from './batch-loop.ts'
import { BatchRunner, insideOutputOf } from './batch-runner.ts'
import {
  isGracefulStop,
  type ResolvedContextOptions,
  resolveContextOptions,
  type StopOptions,
  type StreamingContextOptions,
} from './context-options.ts'
import type { BatchFunction, DStream } from './dstream.ts'
import type { InputDStream, InputNaming, InputSlice } from './input-dstream.ts'
import { KnownBatches } from './known-batches.ts'
import type { StreamingListener } from './listener.ts'
import { ListenerBus } from './listener-bus.ts'
import { attachObservability, type ObservabilityHandle } from './observability-hook.ts'
import { progressLogger } from './progress-log.ts'
import { type RecoveredStart, Recovery } from './recovery.ts'
import { installSignalHandlers } from './signal-handlers.ts'
import { StopRequest } from './stop-request.ts'
import { StreamGraph } from './stream-graph.ts'

/** A StreamingContext's lifecycle: 'initialized' until `start()`, 'active' while batches run, 'stopped' for good. */
export type ContextState = 'initialized' | 'active' | 'stopped'

/** After a stop forced by a second signal, how long the process may take to exit on its own. */
const forcedExitGraceMs = 1_000

/**
 * The driver of a streaming job, and a small facade over its roles, each in its own file:
 * the graph of streams and outputs (stream-graph.ts), recovery from the checkpoint
 * (recovery.ts), the batch loop that plans each batch and logs the plan ahead of any work
 * (batch-loop.ts), the runner that runs a batch's outputs and commits it (batch-runner.ts),
 * and the listener bus (listener-bus.ts). This class holds the job's lifecycle: start,
 * stop (on request, on a signal, or from inside an output), and termination.
 */
export class StreamingContext {
  readonly appName: string
  readonly batchInterval: number
  readonly checkpointDir: string | undefined
  readonly runner: TaskRunner
  readonly logger: Logger
  readonly clock: Clock
  readonly #options: ResolvedContextOptions
  readonly #graph = new StreamGraph()
  readonly #bus: ListenerBus
  readonly #batches = new KnownBatches()
  readonly #stop = new StopRequest()
  readonly #termination: PromiseWithResolvers<void> = Promise.withResolvers<void>()
  #state: ContextState = 'initialized'
  #lifecycle: Promise<void> | undefined
  #batchRunner: BatchRunner | undefined
  #removeSignalHandlers: (() => void) | undefined
  #terminationAwaited = false
  #uiUrl: string | undefined

  constructor(options: StreamingContextOptions) {
    this.#options = resolveContextOptions(options)
    this.appName = this.#options.appName
    this.batchInterval = this.#options.batchInterval
    this.checkpointDir = this.#options.checkpoint
    this.logger = this.#options.logger
    this.clock = this.#options.clock
    this.runner = new TaskRunner({
      ...(this.#options.taskConcurrency === undefined ? {} : { concurrency: this.#options.taskConcurrency }),
      ...(this.#options.maxTaskAttempts === undefined ? {} : { maxAttempts: this.#options.maxTaskAttempts }),
      logger: this.logger,
    })
    this.#bus = new ListenerBus(this.logger)
    this.#bus.add(progressLogger(this.logger))
    // Nobody may ever await termination; see #settle for what a failure does then.
    this.#termination.promise.catch(() => {})
  }

  get state(): ContextState {
    return this.#state
  }

  /**
   * Where the web UI, /metrics and /api listen, from `start()` until the stream stops, when the
   * `ui` option is set (with `port: 0` it tells which port was picked).
   */
  get uiUrl(): string | undefined {
    return this.#uiUrl
  }

  /** Adds a listener; its methods are called in registration order (see StreamingListener). */
  addListener(listener: StreamingListener): void {
    this.#bus.add(listener)
  }

  removeListener(listener: StreamingListener): void {
    this.#bus.remove(listener)
  }

  /**
   * Starts the job: installs the signal handlers (first, so that a signal during recovery
   * stops it cleanly), opens the checkpoint (taking its lock), lets every input decide where
   * it starts and every stateful stream load its state, then starts the batch loop. Resolves
   * once running (or once a stop requested during recovery took effect); a failure of a later
   * batch surfaces through `awaitTermination()`.
   */
  async start(): Promise<void> {
    if (this.#state !== 'initialized') {
      throw new SluiceError(ErrorCodes.CLOSED, `StreamingContext '${this.appName}' was already started`)
    }
    this.#graph.prepare()
    this.#state = 'active'
    if (this.#options.stopOnSignals) {
      this.#removeSignalHandlers = installSignalHandlers((signal, count) => this.#onSignal(signal, count))
    }
    const started = Promise.withResolvers<void>()
    this.#lifecycle = this.#live(started)
    await started.promise
  }

  /**
   * Stops the stream. Graceful (the default): the running batch finishes and commits — if it
   * takes longer than `stopTimeout`, it is abandoned — then the stream stops. Forced: the
   * running batch is abandoned uncommitted at once (a restart re-runs it).
   *
   * Called from inside an output operation, it cannot wait for the batch that is waiting for
   * it: it asks for the stop and resolves at once, and the stream stops once that batch is
   * done.
   */
  async stop(options: StopOptions = {}): Promise<void> {
    const graceful = isGracefulStop(options)
    if (this.#state === 'initialized') {
      this.#state = 'stopped'
      this.#termination.resolve()
      return
    }
    if (this.#state === 'stopped') return
    this.#stop.request(graceful ? 'graceful' : 'forced')
    if (insideOutputOf.getStore() === this) return
    const lifecycle = this.#lifecycle
    if (graceful && this.#options.stopTimeout > 0) {
      let timer: NodeJS.Timeout | undefined
      const timedOut = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), this.#options.stopTimeout)
      })
      const late = await Promise.race([lifecycle?.then(() => false), timedOut])
      clearTimeout(timer)
      if (late) {
        this.logger.warn('a graceful stop timed out: abandoning the running batch (a restart re-runs it)', {
          stopTimeout: this.#options.stopTimeout,
        })
        this.#stop.request('forced')
      }
    }
    await lifecycle
  }

  /**
   * Resolves when the stream stops, and rejects with the error that stopped it. A stream that
   * fails while nobody ever awaits this makes the process exit with code 1 (see docs/operations.md).
   */
  awaitTermination(): Promise<void> {
    this.#terminationAwaited = true
    return this.#termination.promise
  }

  // ---- used by streams while the job is being defined and run ----

  /** @internal */
  checkNotStarted(what: string): void {
    if (this.#state !== 'initialized') {
      throw new SluiceError(ErrorCodes.INVALID_ARGUMENT, `cannot ${what} after the StreamingContext started`)
    }
  }

  /** @internal Adds an input and returns its stable name. */
  registerInput(input: InputDStream<unknown>, naming: InputNaming): string {
    this.checkNotStarted('add an input stream')
    return this.#graph.registerInput(input, naming)
  }

  /** @internal */
  registerOutput<T>(stream: DStream<T>, fn: BatchFunction<T>, name: string): void {
    this.checkNotStarted('add an output operation')
    this.#graph.registerOutput({ stream: stream as DStream<unknown>, fn: fn as BatchFunction<unknown>, name })
  }

  /** @internal An input's slice of a known batch (undefined: unknown batch, or nothing from that input). */
  sliceOf(input: InputDStream<unknown>, batchId: number): InputSlice<unknown> | undefined {
    return this.#batches.sliceOf(input, batchId)
  }

  /** @internal A known batch by id: the current one or one of the history windows need. */
  batchRefOf(id: number): BatchRef | undefined {
    return this.#batches.get(id)?.ref
  }

  /** @internal The running batch's signal, which aborts on a forced stop. */
  batchSignal(): AbortSignal {
    return this.#batchRunner?.signal ?? this.#stop.forcedSignal
  }

  // ---- the lifecycle ----

  /** Recovery, then the batch loop, then the release of everything; settles termination. */
  async #live(started: PromiseWithResolvers<void>): Promise<void> {
    let startFailure: unknown
    let failure: unknown
    let running = false
    let observability: ObservabilityHandle | undefined
    const recovery = new Recovery({
      appName: this.appName,
      checkpointDir: this.checkpointDir,
      checkpointRetain: this.#options.checkpointRetain,
      graph: this.#graph,
      batches: this.#batches,
      clock: this.clock,
      stop: this.#stop,
      logger: this.logger,
    })
    try {
      if (this.#options.ui) {
        observability = await attachObservability(this, this.#options.ui)
        this.#uiUrl = observability.url
        this.logger.info('web UI and metrics', { url: observability.url })
      }
      const start = await recovery.run()
      running = true
      started.resolve()
      if (start) await this.#runLoop(start, recovery)
    } catch (error) {
      if (!running) startFailure = error
      else if (this.#stop.kind !== 'forced') failure = error
    }
    await this.#release(recovery, observability)
    this.#state = 'stopped'
    this.#settle(startFailure, failure)
    if (startFailure !== undefined) started.reject(startFailure)
  }

  async #runLoop(start: RecoveredStart, recovery: Recovery): Promise<void> {
    this.#batchRunner = new BatchRunner({
      app: this.appName,
      batchInterval: this.batchInterval,
      owner: this,
      graph: this.#graph,
      batches: this.#batches,
      bus: this.#bus,
      clock: this.clock,
      stop: this.#stop,
      store: recovery.store,
    })
    const loop = new BatchLoop({
      batchInterval: this.batchInterval,
      clock: this.clock,
      graph: this.#graph,
      batches: this.#batches,
      runner: this.#batchRunner,
      stop: this.#stop,
      store: recovery.store,
    })
    this.#bus.post('onStreamingStarted', {
      app: this.appName,
      time: this.clock.now(),
      batchInterval: this.batchInterval,
      checkpoint: recovery.store?.dir ?? null,
      resumedFrom: start.resumedFrom,
      recovered: {
        pendingBatchId: start.pending?.ref.id ?? null,
        recomputedBatches: start.recompute ? start.recompute.to - start.recompute.from + 1 : 0,
      },
    })
    await loop.run(start, recovery)
  }

  /**
   * Settles termination once everything is released. A start that failed rejects start()
   * itself, which its caller sees. A stream that failed later rejects awaitTermination();
   * when the process exits without anyone having awaited it, the exit code becomes 1, so a
   * job whose stream failed never looks like a success to its supervisor.
   */
  #settle(startFailure: unknown, failure: unknown): void {
    const error =
      failure === undefined
        ? undefined
        : failure instanceof SluiceError
          ? failure
          : batchFailed(undefined, undefined, failure)
    this.#bus.post('onStreamingStopped', {
      app: this.appName,
      time: this.clock.now(),
      graceful: this.#stop.kind !== 'forced' && error === undefined,
      ...(error ? { error } : {}),
      batchesCompleted: this.#batchRunner?.completed ?? 0,
    })
    if (startFailure !== undefined) {
      this.#termination.reject(startFailure)
    } else if (error !== undefined) {
      this.#termination.reject(error)
      process.once('exit', () => {
        if (!this.#terminationAwaited && !process.exitCode) process.exitCode = 1
      })
    } else {
      this.#termination.resolve()
    }
  }

  async #release(recovery: Recovery, observability: ObservabilityHandle | undefined): Promise<void> {
    this.#removeSignalHandlers?.()
    this.#removeSignalHandlers = undefined
    const closing = this.#graph.inputs.map((input) => input.close())
    if (recovery.store) closing.push(recovery.store.close())
    if (observability) closing.push(observability.close())
    this.#uiUrl = undefined
    const results = await Promise.allSettled(closing)
    for (const result of results) {
      if (result.status === 'rejected') {
        this.logger.warn('closing a stream resource failed', { error: result.reason })
      }
    }
  }

  #onSignal(signal: NodeJS.Signals, count: number): void {
    if (count === 1) {
      this.logger.info('signal received: stopping after the running batch', {
        signal,
        stopTimeout: this.#options.stopTimeout,
      })
      void this.stop({ graceful: true })
    } else {
      this.logger.info('another signal: forcing the stop (the running batch is re-run on restart)', {
        signal,
      })
      // Forcing means now: once the lock is released, work that still keeps the process
      // alive (an output stuck on a remote call) must not. Our handlers are gone by then, so
      // the signal, raised again, ends the process its default way.
      void this.stop({ graceful: false }).then(() => {
        setTimeout(() => process.kill(process.pid, signal), forcedExitGraceMs).unref()
      })
    }
  }
}
