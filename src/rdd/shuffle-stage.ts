import { describeValue } from '../core/describe-value.ts'
import { ErrorCodes, SluiceError } from '../core/errors.ts'
import type { Aggregator } from './aggregator.ts'
import type { Chunks } from './chunks.ts'
import { compileInto, type ElementOp, type PipelineStep } from './element-pipeline.ts'
import { turnDue, yieldTurn } from './event-loop-turns.ts'
import { bucketOf } from './hash-partitioner.ts'
import { serializedKeyOf } from './key-serializer.ts'
import { type KeyedEntry, KeyedMap } from './keyed-map.ts'
import type { Rdd } from './rdd.ts'
import type { ShuffleSpec } from './shuffle-options.ts'

/** One map task's output: for each reduce partition, the combined entries bound for it. */
export type MapOutput<K, C> = readonly (readonly KeyedEntry<K, C>[])[]

/**
 * The map side of a hash shuffle. It runs once, as a job over every parent partition, the
 * first time a reduce partition is needed; concurrent callers share that run. The outputs
 * stay in memory for later actions and retried reduce tasks. A failed run is forgotten, so
 * the next action runs the stage again.
 */
export class ShuffleStage<K, V, C> {
  readonly #parent: Rdd<[K, V]>
  readonly #spec: ShuffleSpec<K>
  readonly #aggregator: Aggregator<V, C>
  readonly #fused: PipelineStep<[K, V]>['pipeline'] | undefined
  #outputs: Promise<readonly MapOutput<K, C>[]> | undefined

  /**
   * `pipeline` is the parent's own narrow ops when the parent is a fused map/filter/flatMap
   * step: the map tasks then read the pipeline's source and run the ops straight into the
   * combiner, so no record the ops produce (a `[word, 1]` per word) is ever put in a chunk.
   * The pipeline is one-to-one with its source, so partition i is the same data either way.
   */
  constructor(
    parent: Rdd<[K, V]>,
    spec: ShuffleSpec<K>,
    aggregator: Aggregator<V, C>,
    pipeline?: PipelineStep<[K, V]>['pipeline'],
  ) {
    this.#parent = parent
    this.#spec = spec
    this.#aggregator = aggregator
    this.#fused = pipeline
  }

  /** The map outputs in parent-partition order, running the stage if no run is done or under way. */
  outputs(signal?: AbortSignal): Promise<readonly MapOutput<K, C>[]> {
    if (this.#outputs === undefined) {
      const run = this.#run(signal)
      this.#outputs = run
      run.catch(() => {
        if (this.#outputs === run) this.#outputs = undefined
      })
    }
    return this.#outputs
  }

  #run(signal: AbortSignal | undefined): Promise<MapOutput<K, C>[]> {
    const parent = this.#parent
    const partitions = Array.from({ length: parent.numPartitions }, (_, i) => i)
    const fused = this.#fused
    if (fused !== undefined) {
      return parent.runner.runJob(
        fused.parent,
        partitions,
        (chunks) => this.#writeMapOutput(chunks, fused.ops),
        {
          signal,
        },
      )
    }
    return parent.runner.runJob(parent, partitions, (chunks) => this.#writeMapOutput(chunks), { signal })
  }

  /**
   * Combines one parent partition by key (after `ops`, when the parent's pipeline is fused
   * in), then buckets the combined entries by key hash. Hashing once per distinct key rather
   * than once per record keeps repeated keys cheap.
   */
  async #writeMapOutput(chunks: Chunks<unknown>, ops: readonly ElementOp[] = []): Promise<MapOutput<K, C>> {
    const { numPartitions, keySerializer } = this.#spec
    const aggregator = this.#aggregator
    const combined = new KeyedMap<K, C>()
    const combine = (record: unknown): void => {
      if (!Array.isArray(record)) throw notAPair(record)
      const key = record[0] as K
      const serialized = serializedKeyOf(key, keySerializer)
      const entry = combined.get(key, serialized)
      if (entry === undefined) combined.add(key, serialized, aggregator.createCombiner(record[1]))
      else entry.value = aggregator.mergeValue(entry.value, record[1])
    }
    const push = ops.length > 0 ? compileInto(ops, combine) : combine
    for await (const chunk of chunks) {
      for (let i = 0; i < chunk.length; i++) push(chunk[i])
    }
    const buckets = Array.from({ length: numPartitions }, (): KeyedEntry<K, C>[] => [])
    const entries = combined.entries()
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!
      buckets[bucketOf(entry.key, entry.serialized, numPartitions)]!.push(entry)
      if ((i & 1023) === 1023 && turnDue()) await yieldTurn()
    }
    return buckets
  }
}

function notAPair(record: unknown): SluiceError {
  return new SluiceError(
    ErrorCodes.INVALID_ARGUMENT,
    `a key-value operation needs [key, value] tuples, got ${describeValue(record)}`,
  )
}
