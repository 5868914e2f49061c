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
import { arrayChunks, collectPartitions, MemoryRdd, memoryRddOf } from './memory-rdd.ts'
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
  const window = new IncrementalWindow<K, V>({
    reduced,
    spec,
    reduce,
    inverse,
    filter,
    shuffle,
    numPartitions: shuffleOptions.numPartitions,
    logger: parent.context.logger,
  })
  const stream = new DerivedDStream<[K, V]>(parent.context, {
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

interface IncrementalWindowInit<K, V> {
  readonly reduced: DStream<[K, V]>
  readonly spec: WindowSpec
  readonly reduce: Reduce<V>
  readonly inverse: Reduce<V>
  readonly filter: ((pair: [K, V]) => boolean) | undefined
  readonly shuffle: ShuffleSpec<K>
  readonly numPartitions: number | undefined
  readonly logger: Logger
}

class IncrementalWindow<K, V> {
  readonly #init: IncrementalWindowInit<K, V>
  /** The last emitted window's result, which the next window builds on. */
  #previous: { readonly batchId: number; readonly rdd: MemoryRdd<[K, V]> } | undefined
  stream: DStream<[K, V]> | undefined

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

  constructor(init: IncrementalWindowInit<K, V>) {
    this.#init = init
  }

  compute(batch: BatchRef): Rdd<[K, V]> | undefined {
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
    let data: [K, V][][] = []
    const result = new MemoryRdd<[K, V]>(
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
    previous: MemoryRdd<[K, V]> | undefined,
    numPartitions: number,
    signal: AbortSignal | undefined,
  ): Promise<[K, V][][]> {
    if (previous !== undefined) {
      const parts = await collectPartitions(this.#incremental(batch, previous, numPartitions), signal)
      if (!parts.some((partition) => partition.some((pair) => pair[0] === INCONSISTENT))) {
        return parts as [K, V][][]
      }
      this.#init.logger.warn(
        'a key left the window without being in the previous window result; computing the window from scratch ' +
          "(does reduceByKeyAndWindow's filter drop keys whose value is not empty?)",
        { batchId: batch.id },
      )
    }
    return collectPartitions(this.#fromScratch(batch, numPartitions), signal)
  }

  /** previous result − leaving batches + entering batches, per key. */
  #incremental(
    batch: BatchRef,
    previous: Rdd<[K, V]>,
    numPartitions: number,
  ): Rdd<[K | typeof INCONSISTENT, V]> {
    const { spec, reduced, reduce, inverse, shuffle } = this.#init
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
    const tagged = [
      previous.map(tag('previous')),
      ...rddsInSpan(reduced, leavingSpan(spec, batch.id), batch.id).map((rdd) => rdd.map(tag('leaving'))),
      ...rddsInSpan(reduced, enteringSpan(spec, batch.id), batch.id).map((rdd) => rdd.map(tag('entering'))),
    ]
    const [first, ...rest] = tagged
    return first!
      .union(...rest)
      .reduceByKey(merge, { numPartitions, keySerializer: shuffle.keySerializer })
      .flatMap(([key, parts]) => this.#finish(key, parts, inverse))
  }

  #finish(key: K, parts: Parts<V>, inverse: Reduce<V>): [K | typeof INCONSISTENT, V][] {
    const { reduce, filter } = this.#init
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

  #fromScratch(batch: BatchRef, numPartitions: number): Rdd<[K, V]> {
    const { spec, reduced, reduce, filter, shuffle } = this.#init
    const union = unionOf(rddsInSpan(reduced, windowSpan(spec, batch.id), batch.id))
    if (union === undefined) return memoryRddOf<[K, V]>([], reduced.context.runner)
    const window = union.reduceByKey(reduce, { numPartitions, keySerializer: shuffle.keySerializer })
    return filter === undefined ? window : window.filter(filter)
  }
}
