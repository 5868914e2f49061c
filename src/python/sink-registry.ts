import { ErrorCodes, SluiceError } from '../core/errors.ts'
import type { Logger } from '../core/logger.ts'
import { createFileSink } from '../sinks/file-sink.ts'
import { createKafkaSink } from '../sinks/kafka-sink.ts'
import type { BatchOutcome, ExactlyOnceSink } from '../sinks/sink.ts'
import { createSqlSink } from '../sinks/sql/sql-sink.ts'
import type { Batch } from '../stream/batch.ts'
import { type ErrorFrame, fromErrorFrame } from './driver-channel.ts'
import type { PlanNode } from './python-graph.ts'

type Params = Record<string, unknown>
type AnySink = ExactlyOnceSink<Record<string, unknown>> & { storedOffsets?: () => Promise<unknown> }

/** What the Python `tx` proxy may call on each kind of sink's transaction. */
const transactionMethods: Record<string, readonly string[]> = {
  sql: ['query', 'upsert', 'append'],
  kafka: ['send'],
  file: ['write'],
}

interface OpenWrite {
  readonly kind: string
  readonly tx: Record<string, unknown>
  readonly finish: { resolve: () => void; reject: (error: unknown) => void }
  readonly outcome: Promise<BatchOutcome>
}

/**
 * The exactly-once sinks a Python driver declared, run here so that the batch's output and
 * its offsets stay one transaction in one place. A Python `write_batch(batch, fn)` opens
 * the batch's transaction (`sink.begin`), forwards each `tx.upsert/append/query/send/write`
 * (`sink.op`), and ends it (`sink.end`): committed with the offsets if `fn` returned,
 * rolled back if it raised. A replayed batch the sink already holds never opens one.
 */
export class SinkRegistry {
  readonly #logger: Logger
  readonly #batchById: (id: number) => Batch | undefined
  readonly #sinks = new Map<number, { kind: string; sink: AnySink }>()
  readonly #writes = new Map<number, OpenWrite>()
  #nextSink = 1
  #nextWrite = 1

  constructor(logger: Logger, batchById: (id: number) => Batch | undefined) {
    this.#logger = logger
    this.#batchById = batchById
  }

  async handle(method: string, params: Params): Promise<unknown> {
    switch (method) {
      case 'sink.create':
        return this.#create(params)
      case 'sink.stored_offsets': {
        const { sink, kind } = this.#sink(params.sink)
        if (!sink.storedOffsets)
          throw new SluiceError(ErrorCodes.INVALID_ARGUMENT, `a ${kind} sink keeps no offsets`)
        return sink.storedOffsets()
      }
      case 'sink.begin':
        return this.#begin(params)
      case 'sink.op':
        return this.#op(params)
      case 'sink.end':
        return this.#end(params)
      case 'sink.close': {
        const entry = this.#sinks.get(params.sink as number)
        this.#sinks.delete(params.sink as number)
        await entry?.sink.close()
        return null
      }
      default:
        throw new SluiceError(ErrorCodes.INVALID_ARGUMENT, `the engine has no request '${method}'`)
    }
  }

  /** Replaces `startingOffsets: { sink: id }` in the graph's Kafka inputs by the sink's stored offsets. */
  async resolveStartingOffsets(nodes: readonly PlanNode[]): Promise<PlanNode[]> {
    const resolved: PlanNode[] = []
    for (const node of nodes) {
      const starting = node.kafka?.startingOffsets as { sink?: number } | undefined
      if (starting && typeof starting === 'object' && typeof starting.sink === 'number') {
        const { sink, kind } = this.#sink(starting.sink)
        if (!sink.storedOffsets) {
          throw new SluiceError(
            ErrorCodes.INVALID_OPTION,
            `option 'startingOffsets': a ${kind} sink keeps no offsets`,
          )
        }
        const offsets = (await sink.storedOffsets()) as Record<string, unknown>
        // A sink with no offsets yet: start at the log start, as the TypeScript examples do.
        const startingOffsets = Object.keys(offsets).length > 0 ? offsets : 'earliest'
        resolved.push({ ...node, kafka: { ...node.kafka, startingOffsets } })
      } else resolved.push(node)
    }
    return resolved
  }

  async closeAll(): Promise<void> {
    for (const write of this.#writes.values()) write.finish.reject(new Error('the Python driver went away'))
    this.#writes.clear()
    const closing = [...this.#sinks.values()].map(({ sink }) => sink.close())
    this.#sinks.clear()
    for (const result of await Promise.allSettled(closing)) {
      if (result.status === 'rejected') this.#logger.warn('closing a sink failed', { error: result.reason })
    }
  }

  async #create(params: Params): Promise<{ id: number }> {
    const kind = String(params.kind)
    const options = { ...(params.options as Params), logger: this.#logger }
    let sink: AnySink
    if (kind === 'sql') sink = createSqlSink(options as never) as unknown as AnySink
    else if (kind === 'kafka') sink = createKafkaSink(options as never) as unknown as AnySink
    else if (kind === 'file') sink = createFileSink(options as never) as unknown as AnySink
    else throw new SluiceError(ErrorCodes.INVALID_OPTION, `unknown sink kind '${kind}'`)
    await sink.start()
    const id = this.#nextSink++
    this.#sinks.set(id, { kind, sink })
    return { id }
  }

  #sink(id: unknown): { kind: string; sink: AnySink } {
    const entry = this.#sinks.get(id as number)
    if (!entry) throw new SluiceError(ErrorCodes.CLOSED, `sink ${String(id)} is closed or was never created`)
    return entry
  }

  async #begin(params: Params): Promise<{ write?: number; outcome?: BatchOutcome }> {
    const { kind, sink } = this.#sink(params.sink)
    const batch = this.#batchById(params.batch as number)
    if (!batch) {
      throw new SluiceError(
        ErrorCodes.INVALID_ARGUMENT,
        `batch ${String(params.batch)} is not running: call write_batch inside the batch's foreach_batch function`,
      )
    }
    let opened!: (tx: Record<string, unknown>) => void
    const txOpen = new Promise<Record<string, unknown>>((resolve) => {
      opened = resolve
    })
    let finish!: OpenWrite['finish']
    const finished = new Promise<void>((resolve, reject) => {
      finish = { resolve, reject }
    })
    const outcome = sink.writeBatch(batch, async (tx) => {
      opened(tx)
      await finished
    })
    outcome.catch(() => {})
    const first = await Promise.race([
      txOpen.then((tx) => ({ tx })),
      outcome.then((result) => ({ outcome: result })),
    ])
    if ('outcome' in first) return { outcome: first.outcome }
    const id = this.#nextWrite++
    this.#writes.set(id, { kind, tx: first.tx, finish, outcome })
    return { write: id }
  }

  async #op(params: Params): Promise<unknown> {
    const write = this.#writes.get(params.write as number)
    if (!write)
      throw new SluiceError(ErrorCodes.CLOSED, 'this transaction is over: use tx only inside write_batch')
    const method = String(params.op)
    if (!transactionMethods[write.kind]?.includes(method)) {
      throw new SluiceError(
        ErrorCodes.INVALID_ARGUMENT,
        `a ${write.kind} sink's tx has no method '${method}'`,
      )
    }
    const fn = write.tx[method] as (...args: unknown[]) => unknown
    const result = await fn.apply(write.tx, params.args as unknown[])
    return result ?? null
  }

  async #end(params: Params): Promise<BatchOutcome> {
    const id = params.write as number
    const write = this.#writes.get(id)
    if (!write) throw new SluiceError(ErrorCodes.CLOSED, 'this transaction is already over')
    this.#writes.delete(id)
    if (params.error) write.finish.reject(fromErrorFrame(params.error as ErrorFrame))
    else write.finish.resolve()
    return write.outcome
  }
}
