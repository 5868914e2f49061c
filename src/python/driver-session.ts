import type { Duplex } from 'node:stream'
import { ErrorCodes, SluiceError } from '../core/errors.ts'
import type { Logger } from '../core/logger.ts'
import type { Batch } from '../stream/batch.ts'
import type { UiOptions } from '../stream/context-options.ts'
import { StreamingContext } from '../stream/streaming-context.ts'
import { AdminRequests } from './admin-requests.ts'
import { DriverChannel } from './driver-channel.ts'
import { batchFrame, forwardingListener } from './listener-events.ts'
import { type PlanNode, RddGraphBuilder, StreamGraphBuilder } from './python-graph.ts'
import { PythonStages, type StagedRdd } from './python-plan.ts'
import { SinkRegistry } from './sink-registry.ts'
import type { FunctionDigest } from './stage.ts'
import { StageRunner } from './stage-runner.ts'
import { WorkerPool } from './worker-pool.ts'

type Params = Record<string, unknown>

interface JobParams {
  readonly app: string
  readonly batch_interval_ms: number
  readonly checkpoint?: string | null
  readonly checkpoint_retain?: number | null
  readonly task_concurrency?: number | null
  readonly max_task_attempts?: number | null
  readonly stop_timeout_ms?: number | null
  readonly ui?: UiOptions | null
  /** Whether the driver has listeners: the stream's events are then sent to it. */
  readonly listen?: boolean
  readonly nodes: readonly PlanNode[]
  readonly outputs: readonly { readonly node: number; readonly index: number }[]
}

/**
 * The engine's side of one Python driver: the job it defines (a StreamingContext whose
 * streams run Python stages), the actions it asks for, its sinks, and the worker pool.
 * When the driver goes away the job stops at once, uncommitted, as in a crash: a restart
 * of the driver replays exactly.
 */
export class DriverSession {
  readonly #logger: Logger
  readonly #channel: DriverChannel
  readonly #functions = new Map<FunctionDigest, Buffer>()
  readonly #handles = new Map<number, StagedRdd>()
  readonly #batches = new Map<number, Batch>()
  readonly #sinks: SinkRegistry
  readonly #admin: AdminRequests
  readonly #closed: Promise<void>
  #resolveClosed!: () => void
  #stages: PythonStages | undefined
  #job: StreamingContext | undefined
  #nextHandle = 1

  constructor(socket: Duplex, logger: Logger) {
    this.#logger = logger
    this.#closed = new Promise((resolve) => {
      this.#resolveClosed = resolve
    })
    this.#sinks = new SinkRegistry(logger, (id) => this.#batches.get(id))
    this.#admin = new AdminRequests(logger)
    this.#channel = new DriverChannel(
      socket,
      (method, params) => this.#handle(method, params),
      (error) => void this.#shutdown(error),
      logger,
    )
  }

  /** Resolves when the driver is gone and everything the session held is released. */
  get closed(): Promise<void> {
    return this.#closed
  }

  async #handle(method: string, params: Params): Promise<unknown> {
    switch (method) {
      case 'hello':
        return this.#hello(params)
      case 'functions':
        for (const [digest, payload] of Object.entries(params.functions as Record<string, Buffer>)) {
          this.#functions.set(digest, payload)
        }
        return null
      case 'job.start':
        return this.#startJob(params as unknown as JobParams)
      case 'job.stop':
        await this.#job?.stop({ graceful: params.graceful !== false })
        return null
      case 'rdd.action':
        return this.#action(params)
      case 'engine.info':
        return { pid: process.pid, workers: this.#stagesOrFail().runner.pool.pids }
      default:
        if (method.startsWith('sink.')) return this.#sinks.handle(method, params)
        if (method.startsWith('admin.')) return this.#admin.handle(method, params)
        throw new SluiceError(ErrorCodes.INVALID_ARGUMENT, `the engine has no request '${method}'`)
    }
  }

  #hello(params: Params): Params {
    if (this.#stages) throw new SluiceError(ErrorCodes.INVALID_ARGUMENT, 'the driver said hello twice')
    const pool = new WorkerPool(
      {
        python: String(params.python),
        sysPath: (params.sys_path as string[] | undefined) ?? [],
        cwd: String(params.cwd ?? process.cwd()),
        logger: this.#logger,
      },
      Number(params.workers),
    )
    this.#stages = new PythonStages(new StageRunner(pool, this.#functions))
    return { pid: process.pid }
  }

  #stagesOrFail(): PythonStages {
    if (!this.#stages) throw new SluiceError(ErrorCodes.INVALID_ARGUMENT, "the driver must say 'hello' first")
    return this.#stages
  }

  async #startJob(job: JobParams): Promise<{ ui_url: string | null }> {
    const stages = this.#stagesOrFail()
    if (this.#job && this.#job.state !== 'stopped') {
      throw new SluiceError(ErrorCodes.INVALID_ARGUMENT, 'a streaming job is already running: stop it first')
    }
    const ssc = new StreamingContext({
      appName: job.app,
      batchInterval: job.batch_interval_ms,
      ...(job.checkpoint ? { checkpoint: job.checkpoint } : {}),
      ...(job.checkpoint_retain ? { checkpointRetain: job.checkpoint_retain } : {}),
      ...(job.task_concurrency ? { taskConcurrency: job.task_concurrency } : {}),
      ...(job.max_task_attempts ? { maxTaskAttempts: job.max_task_attempts } : {}),
      ...(typeof job.stop_timeout_ms === 'number' ? { stopTimeout: job.stop_timeout_ms } : {}),
      ...(job.ui ? { ui: job.ui } : {}),
      // Signals are the driver's: it asks for the stop (its own session keeps a terminal's
      // Ctrl-C away from the engine).
      stopOnSignals: false,
      logger: this.#logger,
    })
    if (job.listen) ssc.addListener(forwardingListener((event) => this.#channel.event('listener', event)))
    const nodes = await this.#sinks.resolveStartingOffsets(job.nodes)
    const graph = new StreamGraphBuilder(
      nodes,
      stages,
      ssc,
      (template, inputs) => this.#rddGraph(template.nodes, inputs).build(template.target),
      this.#logger,
    )
    for (const output of job.outputs) {
      const staged = graph.build(output.node)
      staged.base.foreachBatch(async (rdd, batch) => {
        const handle = this.#nextHandle++
        this.#handles.set(handle, { ...staged, base: rdd })
        this.#batches.set(batch.id, batch)
        try {
          await this.#channel.request('batch', {
            output: output.index,
            rdd: handle,
            batch: batchFrame(batch),
          })
        } finally {
          this.#handles.delete(handle)
          this.#batches.delete(batch.id)
        }
      })
    }
    this.#job = ssc
    await ssc.start()
    ssc.awaitTermination().then(
      () => this.#channel.event('terminated', { error: null }),
      (error: unknown) =>
        this.#channel.event('terminated', {
          error: {
            code: (error as SluiceError).code ?? ErrorCodes.BATCH_FAILED,
            message: String((error as Error).message),
          },
        }),
    )
    return { ui_url: ssc.uiUrl ?? null }
  }

  async #action(params: Params): Promise<unknown> {
    const stages = this.#stagesOrFail()
    const staged = this.#rddGraph(params.nodes as PlanNode[]).build(params.target as number)
    const action = params.action as { kind: string; n?: number; fn?: string }
    switch (action.kind) {
      case 'collect': {
        const blobs = await stages.materialize(staged).collect()
        return blobs.filter((blob) => blob.count > 0).map((blob) => blob.data)
      }
      case 'count': {
        if (staged.input.kind === 'kafka' && staged.ops.length === 0) return staged.base.count()
        const counts = (await stages.runJob(staged, { kind: 'count' })) as number[]
        return counts.reduce((sum, n) => sum + n, 0)
      }
      case 'take':
        return this.#take(staged, action.n ?? 1)
      case 'reduce':
        return (await stages.runJob(staged, { kind: 'reduce', fn: action.fn! })).filter(
          (part) => part !== null,
        )
      case 'foreach':
        await stages.runJob({ ...staged, ops: [...staged.ops, ['map', action.fn!]] }, { kind: 'none' })
        return null
      default:
        throw new SluiceError(ErrorCodes.INVALID_ARGUMENT, `unknown action '${action.kind}'`)
    }
  }

  /** A builder of RDDs from the driver's nodes: batch RDDs by handle, templates' stand-ins from `inputs`. */
  #rddGraph(nodes: readonly PlanNode[], inputs: readonly StagedRdd[] = []): RddGraphBuilder {
    const handles = (handle: number) => {
      const staged = this.#handles.get(handle)
      if (!staged) {
        throw new SluiceError(
          ErrorCodes.INVALID_ARGUMENT,
          'this RDD belonged to a batch that is over: use a batch RDD only inside its foreach_batch function',
        )
      }
      return staged
    }
    return new RddGraphBuilder(nodes, this.#stagesOrFail(), handles, this.#logger, inputs)
  }

  /**
   * The first records in partition order, reading as little as the engine's take does:
   * every blob holds at least one record, so `n` blobs hold at least `n` records; the
   * driver keeps the first `n`.
   */
  async #take(staged: StagedRdd, n: number): Promise<Buffer[]> {
    const blobs = await this.#stagesOrFail().materialize(staged).take(n)
    return blobs.filter((blob) => blob.count > 0).map((blob) => blob.data)
  }

  async #shutdown(error: SluiceError | undefined): Promise<void> {
    if (error) this.#logger.error('the channel to the Python driver broke', { error })
    else this.#logger.debug('the Python driver went away: stopping')
    try {
      await this.#job?.stop({ graceful: false })
    } catch {
      // Stopping after the driver died: the stream's own error is of no use to anyone now.
    }
    this.#stages?.runner.pool.close()
    await this.#sinks.closeAll()
    await this.#admin.close()
    this.#resolveClosed()
  }
}
