import { invalidOption } from '../core/errors.ts'
import {
  functionArgument,
  functionOption,
  optionOrDefault,
  optionsObject,
  parseOptions,
  positiveInteger,
} from '../core/options.ts'
import type { PartitionFunction } from '../rdd/map-partitions.ts'
import type { ChunkFunction, Rdd } from '../rdd/rdd.ts'
import { resolveShuffleOptions, type ShuffleOptions } from '../rdd/shuffle-options.ts'
import { fromSource } from '../rdd/source-rdd.ts'
import type { Batch, BatchRef } from './batch.ts'
// Windows and state. These modules build their streams from DerivedDStream below
// and use it only inside functions, never at module load, so the import cycle is harmless.
import {
  type IncrementalWindowOptions,
  incrementalReduceByKeyAndWindowStream,
  reduceByKeyAndWindowStream,
} from './reduce-window.ts'
import { mapWithStateStream, updateStateByKeyStream } from './state/state-dstream.ts'
import type { StateSpec, UpdateStateOptions } from './state/state-spec.ts'
import type { UpdateFunction } from './state/state-update.ts'
import type { BatchHooks } from './stream-hooks.ts'
import type { StreamingContext } from './streaming-context.ts'
import { countByWindowStream, reduceByWindowStream, windowStream } from './window-dstream.ts'

let nextStreamId = 0

const printOptions = optionsObject({ write: functionOption<(text: string) => void>() })

/** What an output operation does with each batch's RDD. */
export type BatchFunction<T> = (rdd: Rdd<T>, batch: Batch) => Promise<void> | void

/** Options of `DStream.print`. */
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
  /** How many batches back this stream's RDDs are read again (by windows downstream); see rememberBatches. */
  #remember = 0

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
    return this.readsBack() + Math.max(0, ...this.parents().map((parent) => parent.historyBatches()))
  }

  /** Earlier batches of its parents this stream itself reads for one batch (a window: its length − 1). */
  protected readsBack(): number {
    return 0
  }

  /** The RDD of a batch, built once per batch and remembered while later batches may need it. */
  getOrCompute(batch: BatchRef): Rdd<T> | undefined {
    if (this.#generated.has(batch.id)) return this.#generated.get(batch.id)
    const rdd = this.compute(batch)
    this.#generated.set(batch.id, rdd)
    return rdd
  }

  /** @internal What this stream keeps from batch to batch (windows, state); most streams keep nothing. */
  batchHooks(): BatchHooks | undefined {
    return undefined
  }

  /**
   * @internal Set by the context at start, from each output up: this stream's RDD
   * of a batch is read again `batches` batches later, and its parents' for as long again
   * plus what this stream reads back itself. Only a window's parents keep old RDDs — with the
   * shuffle outputs and window results they hold — not every stream of the job.
   */
  rememberBatches(batches: number): void {
    if (batches < this.#remember) return
    this.#remember = batches
    for (const parent of this.parents()) parent.rememberBatches(batches + this.readsBack())
  }

  /** @internal Drops the RDDs that no batch from `batchId` on reads again. */
  forgetOld(batchId: number): void {
    this.forgetOwnBefore(batchId - this.#remember)
    for (const parent of this.parents()) parent.forgetOld(batchId)
  }

  /** @internal Drops the RDDs built for batch `batchId`, here and upstream: its inputs' slices changed. */
  forgetBatch(batchId: number): void {
    this.#generated.delete(batchId)
    for (const parent of this.parents()) parent.forgetBatch(batchId)
  }

  /** Drops this stream's own remembered RDDs (not its parents') of batches before `batchId`. */
  protected forgetOwnBefore(batchId: number): void {
    for (const id of this.#generated.keys()) if (id < batchId) this.#generated.delete(id)
  }

  // ---- transformations ----

  /** Any RDD-to-RDD function, applied to every batch. */
  transform<U>(fn: (rdd: Rdd<T>, batch: BatchRef) => Rdd<U>): DStream<U> {
    return new TransformedDStream(this, functionArgument('fn', fn))
  }

  map<U>(fn: (value: T) => U): DStream<U> {
    const f = functionArgument('fn', fn)
    return this.transform((rdd) => rdd.map(f))
  }

  flatMap<U>(fn: (value: T) => Iterable<U>): DStream<U> {
    const f = functionArgument('fn', fn)
    return this.transform((rdd) => rdd.flatMap(f))
  }

  filter(predicate: (value: T) => boolean): DStream<T> {
    const f = functionArgument('predicate', predicate)
    return this.transform((rdd) => rdd.filter(f))
  }

  mapPartitions<U>(fn: PartitionFunction<T, U>): DStream<U> {
    const f = functionArgument('fn', fn)
    return this.transform((rdd) => rdd.mapPartitions(f))
  }

  /** Each batch's chunks through a synchronous function: the fast form of mapPartitions (`Rdd.mapChunks`). */
  mapChunks<U>(fn: ChunkFunction<T, readonly U[]>): DStream<U> {
    const f = functionArgument('fn', fn)
    return this.transform((rdd) => rdd.mapChunks(f))
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
    const f = functionArgument('fn', fn)
    // Checked when the stream is declared, not at its first batch.
    resolveShuffleOptions(options, 1, 'reduceByKey')
    return this.transform((rdd) => rdd.reduceByKey(f, options))
  }

  groupByKey<K, V>(this: DStream<[K, V]>, options?: ShuffleOptions<K>): DStream<[K, V[]]> {
    resolveShuffleOptions(options, 1, 'groupByKey')
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

  // ---- windows: window-dstream.ts, reduce-window.ts ----
  // `length` and `slide` are milliseconds, multiples of the batch interval; `slide` defaults
  // to one batch. A window is emitted at batch b when (b + 1) % (slide / interval) === 0 and
  // covers batches b − length / interval + 1 … b (clipped at 0); other batches have no RDD.

  /** Every `slide` ms, the union of the batches of the last `length` ms. */
  window(length: number, slide?: number): DStream<T> {
    return windowStream(this, length, slide)
  }

  /** One element per window: its records combined with `fn` (none for an empty window). */
  reduceByWindow(fn: (a: T, b: T) => T, length: number, slide?: number): DStream<T> {
    return reduceByWindowStream(this, functionArgument('fn', fn), length, slide)
  }

  /** One element per window: how many records it has. */
  countByWindow(length: number, slide?: number): DStream<number> {
    return countByWindowStream(this, length, slide)
  }

  /** The values of each key in the window, combined with `fn`; every window is recomputed from its batches. */
  reduceByKeyAndWindow<K, V>(
    this: DStream<[K, V]>,
    fn: (a: V, b: V) => V,
    length: number,
    slide?: number,
    options?: ShuffleOptions<K>,
  ): DStream<[K, V]>
  /**
   * The incremental form: each window is the previous one, minus the batches that left it
   * (`invFn`, which undoes `fn`), plus the batches that entered it. `options.filter` drops
   * keys whose value returned to nothing (say, a count of 0).
   */
  reduceByKeyAndWindow<K, V>(
    this: DStream<[K, V]>,
    fn: (a: V, b: V) => V,
    invFn: (a: V, b: V) => V,
    length: number,
    slide?: number,
    options?: IncrementalWindowOptions<K, V>,
  ): DStream<[K, V]>
  reduceByKeyAndWindow<K, V>(
    this: DStream<[K, V]>,
    fn: (a: V, b: V) => V,
    second: ((a: V, b: V) => V) | number,
    ...rest: unknown[]
  ): DStream<[K, V]> {
    if (typeof second === 'function') {
      const [length, slide, options] = rest as [number, number | undefined, IncrementalWindowOptions<K, V>?]
      return incrementalReduceByKeyAndWindowStream(this, fn, second, length, slide, options)
    }
    const [slide, options] = rest as [number | undefined, ShuffleOptions<K>?]
    return reduceByKeyAndWindowStream(this, fn, second, slide, options)
  }

  /** Each distinct value of the window with how often it occurs (incremental; values that left the window drop out). */
  countByValueAndWindow(length: number, slide?: number, options?: ShuffleOptions<T>): DStream<[T, number]> {
    return this.map((value): [T, number] => [value, 1]).reduceByKeyAndWindow(
      (a, b) => a + b,
      (a, b) => a - b,
      length,
      slide,
      { ...options, filter: ([, count]) => count !== 0 },
    )
  }

  // ---- state: state/ ----

  /**
   * Per-key state: after each batch, `fn(values, state)` gives every key that received
   * values, and every other key that has state (with no values), its new state — or
   * undefined to remove it. The stream's batches are every key with its state.
   */
  updateStateByKey<K, V, S>(
    this: DStream<[K, V]>,
    fn: UpdateFunction<V, S>,
    options?: UpdateStateOptions<K, S>,
  ): DStream<[K, S]> {
    return updateStateByKeyStream(this, fn, options)
  }

  /**
   * Per-key state, one call per record: `spec.fn(key, value, state)` reads and changes the
   * key's state and returns what to emit. See StateSpec for timeouts and initial state.
   */
  mapWithState<K, V, S, U>(this: DStream<[K, V]>, spec: StateSpec<K, V, S, U>): MapWithStateDStream<K, S, U> {
    return mapWithStateStream(this, spec)
  }

  // ---- output operations: these make the stream run ----

  /** Calls `fn` with every batch's RDD, after the batch's ranges are checkpointed. */
  foreachBatch(fn: BatchFunction<T>): void {
    this.context.registerOutput(this, functionArgument('fn', fn), 'foreachBatch')
  }

  /** Prints the first `n` elements of every batch, under a header with the batch time. */
  print(n = 10, options: PrintOptions = {}): void {
    optionOrDefault(positiveInteger, n, 'n', 10)
    const write =
      parseOptions(printOptions, options, 'print').write ?? ((text: string) => process.stdout.write(text))
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

/** What a stream defined outside this module (a window, a state) is made of (not exported by the package). */
export interface DerivedStreamSpec<T> {
  readonly parents: readonly DStream<unknown>[]
  compute(batch: BatchRef): Rdd<T> | undefined
  /** Earlier batches it reads beyond what its parents need (a window: its length − 1). */
  readonly extraHistory?: number
  readonly hooks?: BatchHooks
  /** Drops what the stream keeps per batch besides its RDDs (mapWithState's emitted records). */
  forgetBefore?(batchId: number): void
}

/**
 * The stream windows and state are built from (not exported by the package). It lives in this module
 * because a subclass of DStream defined in a module that this one imports would be evaluated
 * before DStream exists.
 */
export class DerivedDStream<T> extends DStream<T> {
  readonly #spec: DerivedStreamSpec<T>

  constructor(context: StreamingContext, spec: DerivedStreamSpec<T>) {
    super(context)
    this.#spec = spec
  }

  protected compute(batch: BatchRef): Rdd<T> | undefined {
    return this.#spec.compute(batch)
  }

  parents(): readonly DStream<unknown>[] {
    return this.#spec.parents
  }

  protected override readsBack(): number {
    return this.#spec.extraHistory ?? 0
  }

  override batchHooks(): BatchHooks | undefined {
    return this.#spec.hooks
  }

  protected override forgetOwnBefore(batchId: number): void {
    super.forgetOwnBefore(batchId)
    this.#spec.forgetBefore?.(batchId)
  }
}

/** What `mapWithState` returns: the records its function emitted per batch, and the state itself. */
export class MapWithStateDStream<K, S, U> extends DerivedDStream<U> {
  readonly #snapshots: DStream<[K, S]>

  constructor(context: StreamingContext, spec: DerivedStreamSpec<U>, snapshots: DStream<[K, S]>) {
    super(context, spec)
    this.#snapshots = snapshots
  }

  /** Every key with its state after each batch (Spark's `stateSnapshots()`). */
  stateSnapshots(): DStream<[K, S]> {
    return this.#snapshots
  }
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
