import type { Logger } from '../core/logger.ts'
import { functionArgument, functionOption, optionsObject, parseOptions } from '../core/options.ts'
import type { Rdd } from '../rdd/rdd.ts'
import {
  resolveShuffleOptions,
  type ShuffleOptions,
  type ShuffleSpec,
  shuffleOptionFields,
} from '../rdd/shuffle-options.ts'
import type { BatchRef } from './batch.ts'
import { DerivedDStream, type DStream } from './dstream.ts'
import { arrayChunks, collectPartitions, MemoryRdd } from './memory-rdd.ts'
import type { BatchHooks } from './stream-hooks.ts'
import { rddsInSpan, unionOf } from './window-dstream.ts'
import {
  emitsAt,
  enteringSpan,
  leavingSpan,
  resolveWindow,
  type WindowSpec,
  windowSpan,
} from './window-spec.ts'

/** Options of the incremental `reduceByKeyAndWindow(fn, invFn, length, slide, options)`. */
export interface IncrementalWindowOptions<K, V> extends ShuffleOptions<K> {
  /**
   * Keeps a key in the window's result only when this returns true. Give it whenever values
   * can return to "nothing" (a count back at 0): the incremental form otherwise keeps such
   * keys with that value, while a window computed from scratch (after a restart) has no
   * entry for them.
   */
  readonly filter?: (pair: [K, V]) => boolean
}

type Reduce<V> = (a: V, b: V) => V

const incrementalWindowOptions = optionsObject({
  ...shuffleOptionFields,
  filter: functionOption<(pair: [unknown, unknown]) => boolean>(),
})

/** The window's partition count: the option, or that of the newest batch's reduced RDD. */
function partitionsFor(numPartitions: number | undefined, rdds: readonly Rdd<unknown>[]): number {
  return numPartitions ?? Math.max(1, rdds.at(-1)?.numPartitions ?? 1)
}

/**
 * `reduceByKeyAndWindow(fn, length, slide)` recomputing every window: each batch is reduced
 * by key once (the shuffle output of that per-batch reduce stays in memory while the batch is
 * in a window, so Kafka is read once per batch), then every window merges its batches' results.
 * Cost per window: proportional to the window's length.
 */
export function reduceByKeyAndWindowStream<K, V>(
  parent: DStream<[K, V]>,
  fn: Reduce<V>,
  length: number,
  slide: number | undefined,
  options: ShuffleOptions<K> | undefined,
): DStream<[K, V]> {
  const reduce = functionArgument('fn', fn)
  const spec = resolveWindow(parent.context.batchInterval, length, slide)
  const shuffle = resolveShuffleOptions(options, 1, 'reduceByKeyAndWindow')
  const reduced = parent.reduceByKey(reduce, options)
  return new DerivedDStream<[K, V]>(parent.context, {
    parents: [reduced],
    extraHistory: spec.lengthBatches - 1,
    compute: (batch) => {
      if (!emitsAt(spec, batch.id)) return undefined
      const rdds = rddsInSpan(reduced, windowSpan(spec, batch.id), batch.id)
      return unionOf(rdds)?.reduceByKey(reduce, {
        numPartitions: partitionsFor(options?.numPartitions, rdds),
        keySerializer: shuffle.keySerializer,
      })
    },
  })
}

/**
 * How an incremental window combines its data, apart from the window mechanics (which
 * batches leave and enter, the previous result, recovery): elements `E` are whatever the
 * per-batch reduced stream holds. The TypeScript form works on `[key, value]` pairs with
 * the user's functions; other runtimes (the Python API) give their own.
 */
export interface WindowCombiner<E> {
  /** The window merged from the reduced RDDs of its batches, into `numPartitions` partitions. */
  fromScratch(rdds: readonly Rdd<E>[], numPartitions: number): Rdd<E>
  /**
   * previous result − leaving batches + entering batches, per key, as partitions; undefined
   * when a key left the window without being in the previous result (the window is then
   * computed from scratch).
   */
  incremental(
    previous: Rdd<E>,
    leaving: readonly Rdd<E>[],
    entering: readonly Rdd<E>[],
    numPartitions: number,
    signal: AbortSignal | undefined,
  ): Promise<E[][] | undefined>
}

/**
 * `reduceByKeyAndWindow(fn, invFn, length, slide, { filter })`: each window is the previous
 * window's result, minus the batches that left (`invFn`), plus the batches that entered
 * (`fn`) — Spark's ReducedWindowedDStream. Cost per window: proportional to the slide, not
 * the length. The previous result is kept in memory; after a restart, or whenever it is
 * missing, the window is computed from scratch from the batches it covers.
 */
export function incrementalReduceByKeyAndWindowStream<K, V>(
  parent: DStream<[K, V]>,
  fn: Reduce<V>,
  invFn: Reduce<V>,
  length: number,
  slide: number | undefined,
  options: IncrementalWindowOptions<K, V> | undefined,
): DStream<[K, V]> {
  const reduce = functionArgument('fn', fn)
  const inverse = functionArgument('invFn', invFn)
  const spec = resolveWindow(parent.context.batchInterval, length, slide)
  const { filter: givenFilter, ...shuffleOptions } = parseOptions(
    incrementalWindowOptions,
    options ?? {},
    'reduceByKeyAndWindow',
  )
  const filter = givenFilter as ((pair: [K, V]) => boolean) | undefined
  const shuffle = resolveShuffleOptions(shuffleOptions as ShuffleOptions<K>, 1, 'reduceByKeyAndWindow')
  const reduced = parent.reduceByKey(reduce, shuffleOptions as ShuffleOptions<K>)
  return incrementalWindowStream(
    reduced,
    spec,
    pairCombiner({ reduce, inverse, filter, shuffle }),
    shuffleOptions.numPartitions,
  )
}

/**
 * The incremental window over `reduced` (each batch's data reduced by key), combined by
 * `combiner`; `numPartitions` defaults to that of the newest batch's reduced RDD.
 */
export function incrementalWindowStream<E>(
  reduced: DStream<E>,
  spec: WindowSpec,
  combiner: WindowCombiner<E>,
  numPartitions: number | undefined,
): DStream<E> {
  const window = new IncrementalWindow<E>({
    reduced,
    spec,
    combiner,
    numPartitions,
    logger: reduced.context.logger,
  })
  const stream = new DerivedDStream<E>(reduced.context, {
    parents: [reduced],
    // The batches leaving the window are read too: they are `slide` batches older.
    extraHistory: spec.lengthBatches + spec.slideBatches - 1,
    compute: (batch) => window.compute(batch),
    hooks: window.hooks,
  })
  window.stream = stream
  return stream
}

/** Marks a key that left the window without being in the previous result (see `finish`). */
const INCONSISTENT = Symbol('inconsistent window key')

/** A key's contributions to the next window: previous result, leaving batches, entering batches. */
interface Parts<V> {
  readonly hasPrevious: boolean
  readonly previous: V | undefined
  readonly hasLeaving: boolean
  readonly leaving: V | undefined
  readonly hasEntering: boolean
  readonly entering: V | undefined
}

interface PairCombinerInit<K, V> {
  readonly reduce: Reduce<V>
  readonly inverse: Reduce<V>
  readonly filter: ((pair: [K, V]) => boolean) | undefined
  readonly shuffle: ShuffleSpec<K>
}

/** The window combiner of the TypeScript API: `[key, value]` pairs and the user's functions. */
function pairCombiner<K, V>(init: PairCombinerInit<K, V>): WindowCombiner<[K, V]> {
  const { reduce, inverse, filter, shuffle } = init
  const tag =
    (side: 'previous' | 'leaving' | 'entering') =>
    ([key, value]: [K, V]): [K, Parts<V>] => [
      key,
      {
        hasPrevious: side === 'previous',
        previous: side === 'previous' ? value : undefined,
        hasLeaving: side === 'leaving',
        leaving: side === 'leaving' ? value : undefined,
        hasEntering: side === 'entering',
        entering: side === 'entering' ? value : undefined,
      },
    ]
  const combine = (a: V | undefined, hasA: boolean, b: V | undefined, hasB: boolean): V | undefined =>
    hasA && hasB ? reduce(a as V, b as V) : hasA ? a : b
  const merge = (a: Parts<V>, b: Parts<V>): Parts<V> => ({
    hasPrevious: a.hasPrevious || b.hasPrevious,
    previous: a.hasPrevious ? a.previous : b.previous,
    hasLeaving: a.hasLeaving || b.hasLeaving,
    leaving: combine(a.leaving, a.hasLeaving, b.leaving, b.hasLeaving),
    hasEntering: a.hasEntering || b.hasEntering,
    entering: combine(a.entering, a.hasEntering, b.entering, b.hasEntering),
  })
  const finish = (key: K, parts: Parts<V>): [K | typeof INCONSISTENT, V][] => {
    let value: V
    if (parts.hasPrevious) {
      value = parts.previous as V
      if (parts.hasLeaving) value = inverse(value, parts.leaving as V)
      if (parts.hasEntering) value = reduce(value, parts.entering as V)
    } else if (parts.hasLeaving) {
      // The key was in a leaving batch, so in the previous window, yet not in its result: the
      // filter dropped a key whose value was not "nothing". No correct value can be derived
      // from here (Spark returns the entering values, or fails); the window is recomputed.
      return [[INCONSISTENT, undefined as V]]
    } else {
      value = parts.entering as V
    }
    return filter === undefined || filter([key, value]) ? [[key, value]] : []
  }
  return {
    fromScratch(rdds, numPartitions) {
      const union = unionOf(rdds)
      if (union === undefined) throw new Error('a window from scratch needs at least one batch')
      const window = union.reduceByKey(reduce, { numPartitions, keySerializer: shuffle.keySerializer })
      return filter === undefined ? window : window.filter(filter)
    },
    async incremental(previous, leaving, entering, numPartitions, signal) {
      const tagged = [
        previous.map(tag('previous')),
        ...leaving.map((rdd) => rdd.map(tag('leaving'))),
        ...entering.map((rdd) => rdd.map(tag('entering'))),
      ]
      const [first, ...rest] = tagged
      const parts = await collectPartitions(
        first!
          .union(...rest)
          .reduceByKey(merge, { numPartitions, keySerializer: shuffle.keySerializer })
          .flatMap(([key, keyParts]) => finish(key, keyParts)),
        signal,
      )
      return parts.some((partition) => partition.some((pair) => pair[0] === INCONSISTENT))
        ? undefined
        : (parts as [K, V][][])
    },
  }
}

interface IncrementalWindowInit<E> {
  readonly reduced: DStream<E>
  readonly spec: WindowSpec
  readonly combiner: WindowCombiner<E>
  readonly numPartitions: number | undefined
  readonly logger: Logger
}

class IncrementalWindow<E> {
  readonly #init: IncrementalWindowInit<E>
  /** The last emitted window's result, which the next window builds on. */
  #previous: { readonly batchId: number; readonly rdd: MemoryRdd<E> } | undefined
  stream: DStream<E> | undefined

  readonly hooks: BatchHooks = {
    name: 'reduceByKeyAndWindow',
    // Loads every emitted window even when no output reads it, so the next one can build on it.
    // Recomputed batches at a restart need no window: the first live window starts from scratch.
    beforeOutputs: async (batch, { replay, signal }) => {
      if (replay || !emitsAt(this.#init.spec, batch.id)) return
      const rdd = this.stream?.getOrCompute(batch)
      if (rdd instanceof MemoryRdd) await rdd.load(signal)
    },
  }

  constructor(init: IncrementalWindowInit<E>) {
    this.#init = init
  }

  compute(batch: BatchRef): Rdd<E> | undefined {
    const { spec, reduced } = this.#init
    if (!emitsAt(spec, batch.id)) return undefined
    const previous = this.#previous
    let base =
      previous !== undefined && previous.batchId === batch.id - spec.slideBatches && previous.rdd.loaded
        ? previous.rdd
        : undefined
    const numPartitions = partitionsFor(
      this.#init.numPartitions,
      rddsInSpan(reduced, windowSpan(spec, batch.id), batch.id),
    )
    let data: E[][] = []
    const result = new MemoryRdd<E>(
      numPartitions,
      {
        load: async (signal) => {
          data = await this.#load(batch, base, numPartitions, signal)
          base = undefined // the chain of earlier windows can now be collected
        },
        chunks: (partition) => arrayChunks(data[partition] ?? []),
      },
      reduced.context.runner,
      'WindowRdd',
    )
    this.#previous = { batchId: batch.id, rdd: result }
    return result
  }

  async #load(
    batch: BatchRef,
    previous: MemoryRdd<E> | undefined,
    numPartitions: number,
    signal: AbortSignal | undefined,
  ): Promise<E[][]> {
    const { spec, reduced, combiner } = this.#init
    if (previous !== undefined) {
      const parts = await combiner.incremental(
        previous,
        rddsInSpan(reduced, leavingSpan(spec, batch.id), batch.id),
        rddsInSpan(reduced, enteringSpan(spec, batch.id), batch.id),
        numPartitions,
        signal,
      )
      if (parts !== undefined) return parts
      this.#init.logger.warn(
        'a key left the window without being in the previous window result; computing the window from scratch ' +
          "(does reduceByKeyAndWindow's filter drop keys whose value is not empty?)",
        { batchId: batch.id },
      )
    }
    const rdds = rddsInSpan(reduced, windowSpan(spec, batch.id), batch.id)
    if (rdds.length === 0) return []
    return collectPartitions(combiner.fromScratch(rdds, numPartitions), signal)
  }
}
