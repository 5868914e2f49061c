import { invalidOption } from '../core/errors.ts'
import type { PartitionFunction } from '../rdd/map-partitions.ts'
import type { Rdd } from '../rdd/rdd.ts'
import type { ShuffleOptions } from '../rdd/shuffle-options.ts'
import { fromSource } from '../rdd/source-rdd.ts'
import type { Batch, BatchRef } from './batch.ts'
import type { StreamingContext } from './streaming-context.ts'

let nextStreamId = 0

/** What an output operation does with each batch's RDD. */
export type BatchFunction<T> = (rdd: Rdd<T>, batch: Batch) => Promise<void> | void

export interface PrintOptions {
  /** Where lines go; standard output by default. */
  readonly write?: (text: string) => void
}

/**
 * A discretized stream: a sequence of RDDs, one per batch. Operations build new streams and
 * run nothing; each batch the context asks the streams that feed an output operation for
 * their RDD of that batch, which is built from the input's planned offset ranges.
 */
export abstract class DStream<T> {
  readonly context: StreamingContext
  readonly id: number
  readonly #generated = new Map<number, Rdd<T> | undefined>()

  constructor(context: StreamingContext) {
    this.context = context
    this.id = nextStreamId++
    context.checkNotStarted('create a stream')
  }

  /** Builds this stream's RDD of a batch; undefined when the stream has nothing for it. */
  protected abstract compute(batch: BatchRef): Rdd<T> | undefined

  abstract parents(): readonly DStream<unknown>[]

  /** Earlier batches this stream reads when it computes one (windows); the checkpoint keeps their plans. */
  historyBatches(): number {
    return Math.max(0, ...this.parents().map((parent) => parent.historyBatches()))
  }

  /** The RDD of a batch, built once per batch and remembered while later batches may need it. */
  getOrCompute(batch: BatchRef): Rdd<T> | undefined {
    if (this.#generated.has(batch.id)) return this.#generated.get(batch.id)
    const rdd = this.compute(batch)
    this.#generated.set(batch.id, rdd)
    return rdd
  }

  /** Drops remembered RDDs of batches before `batchId`. */
  forgetBefore(batchId: number): void {
    for (const id of this.#generated.keys()) if (id < batchId) this.#generated.delete(id)
    for (const parent of this.parents()) parent.forgetBefore(batchId)
  }

  // ---- transformations ----

  /** Any RDD-to-RDD function, applied to every batch. */
  transform<U>(fn: (rdd: Rdd<T>, batch: BatchRef) => Rdd<U>): DStream<U> {
    return new TransformedDStream(this, checkFunction('fn', fn))
  }

  map<U>(fn: (value: T) => U): DStream<U> {
    const f = checkFunction('fn', fn)
    return this.transform((rdd) => rdd.map(f))
  }

  flatMap<U>(fn: (value: T) => Iterable<U>): DStream<U> {
    const f = checkFunction('fn', fn)
    return this.transform((rdd) => rdd.flatMap(f))
  }

  filter(predicate: (value: T) => boolean): DStream<T> {
    const f = checkFunction('predicate', predicate)
    return this.transform((rdd) => rdd.filter(f))
  }

  mapPartitions<U>(fn: PartitionFunction<T, U>): DStream<U> {
    const f = checkFunction('fn', fn)
    return this.transform((rdd) => rdd.mapPartitions(f))
  }

  /** The batches of this stream and of `others` together. */
  union(...others: DStream<T>[]): DStream<T> {
    for (const other of others) {
      if (!(other instanceof DStream)) throw invalidOption('others', 'must all be DStreams')
      if (other.context !== this.context)
        throw invalidOption('others', 'must belong to the same StreamingContext')
    }
    return new UnionDStream([this, ...others])
  }

  reduceByKey<K, V>(
    this: DStream<[K, V]>,
    fn: (a: V, b: V) => V,
    options?: ShuffleOptions<K>,
  ): DStream<[K, V]> {
    const f = checkFunction('fn', fn)
    return this.transform((rdd) => rdd.reduceByKey(f, options))
  }

  groupByKey<K, V>(this: DStream<[K, V]>, options?: ShuffleOptions<K>): DStream<[K, V[]]> {
    return this.transform((rdd) => rdd.groupByKey(options))
  }

  /** Each distinct value of the batch with how often it occurs. */
  countByValue(options?: ShuffleOptions<T>): DStream<[T, number]> {
    return this.map((value): [T, number] => [value, 1]).reduceByKey((a, b) => a + b, options)
  }

  /** One element per batch: how many records it has (0 for an empty batch). */
  count(): DStream<number> {
    return this.transform((rdd) =>
      fromSource(
        1,
        async function* countOnce() {
          yield [await rdd.count()]
        },
        { runner: rdd.runner },
      ),
    )
  }

  // ---- output operations: these make the stream run ----

  /** Calls `fn` with every batch's RDD, after the batch's ranges are checkpointed. */
  foreachBatch(fn: BatchFunction<T>): void {
    this.context.registerOutput(this, checkFunction('fn', fn), 'foreachBatch')
  }

  /** Prints the first `n` elements of every batch, under a header with the batch time. */
  print(n = 10, options: PrintOptions = {}): void {
    if (!Number.isInteger(n) || n < 1)
      throw invalidOption('n', `must be a positive integer, got ${String(n)}`)
    const write = options.write ?? ((text: string) => process.stdout.write(text))
    this.context.registerOutput(
      this,
      async (rdd, batch) => {
        const first = await rdd.take(n + 1)
        const lines = first.slice(0, n).map(formatElement)
        if (first.length > n) lines.push('...')
        const rule = '-'.repeat(43)
        write(
          `${rule}\nBatch ${batch.id}, time: ${batch.time} ms\n${rule}\n${lines.map((l) => `${l}\n`).join('')}\n`,
        )
      },
      'print',
    )
  }
}

/** A stream whose RDD of each batch is a function of its parent's. */
class TransformedDStream<T, U> extends DStream<U> {
  readonly #parent: DStream<T>
  readonly #fn: (rdd: Rdd<T>, batch: BatchRef) => Rdd<U>

  constructor(parent: DStream<T>, fn: (rdd: Rdd<T>, batch: BatchRef) => Rdd<U>) {
    super(parent.context)
    this.#parent = parent
    this.#fn = fn
  }

  protected compute(batch: BatchRef): Rdd<U> | undefined {
    const rdd = this.#parent.getOrCompute(batch)
    return rdd === undefined ? undefined : this.#fn(rdd, batch)
  }

  parents(): readonly DStream<unknown>[] {
    return [this.#parent]
  }
}

class UnionDStream<T> extends DStream<T> {
  readonly #streams: readonly DStream<T>[]

  constructor(streams: readonly DStream<T>[]) {
    super(streams[0]!.context)
    this.#streams = streams
  }

  protected compute(batch: BatchRef): Rdd<T> | undefined {
    const rdds = this.#streams.map((s) => s.getOrCompute(batch)).filter((r): r is Rdd<T> => r !== undefined)
    const [first, ...rest] = rdds
    return first === undefined ? undefined : rest.length === 0 ? first : first.union(...rest)
  }

  parents(): readonly DStream<unknown>[] {
    return this.#streams
  }
}

function checkFunction<F>(name: string, fn: F): F {
  if (typeof fn !== 'function') throw invalidOption(name, `must be a function, got ${typeof fn}`)
  return fn
}

/** How print() shows an element: strings as they are, the rest as JSON with bigints and buffers readable. */
function formatElement(value: unknown): string {
  if (typeof value === 'string') return value
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return v.toString()
    // Buffer.toJSON runs before a replacer sees the value: turn its { type, data } back into text.
    const buffer = v as { type?: unknown; data?: unknown }
    if (
      buffer !== null &&
      typeof buffer === 'object' &&
      buffer.type === 'Buffer' &&
      Array.isArray(buffer.data)
    ) {
      return Buffer.from(buffer.data as number[]).toString('utf8')
    }
    return v
  })
}
