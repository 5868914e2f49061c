import { ErrorCodes, SluiceError } from '../core/errors.ts'
import type { Chunks } from './chunks.ts'
import { Rdd } from './rdd.ts'
import type { TaskContext } from './task-context.ts'

/** What one map task sends to each reduce partition: `buckets[i]` goes to partition i. */
export type Buckets<B> = readonly (readonly B[])[]

export interface BucketShuffleInit<T, B> {
  readonly parent: Rdd<T>
  readonly numPartitions: number
  /**
   * The map side, run once per parent partition: combines and partitions the partition's
   * records itself and returns exactly `numPartitions` buckets of whatever it likes.
   */
  readonly writeBuckets: (chunks: Chunks<T>, ctx: TaskContext) => Promise<Buckets<B>>
}

/**
 * A shuffle whose map side is done by someone else: each map task hands back its records
 * already combined and split into one bucket per reduce partition (say, by a Python worker
 * with its own hash), and the engine only moves the buckets. Reduce partition i yields
 * bucket i of every map output, in map-partition order, one chunk per map output.
 *
 * Like the built-in shuffle, the map stage runs once, when the first reduce partition is
 * needed (the runner prepares it before the job takes task slots); its outputs stay in
 * memory for later actions and retried reduce tasks, and a failed run is forgotten.
 */
export class BucketShuffleRdd<T, B> extends Rdd<B> {
  readonly numPartitions: number
  readonly #parent: Rdd<T>
  readonly #writeBuckets: BucketShuffleInit<T, B>['writeBuckets']
  #outputs: Promise<Buckets<B>[]> | undefined

  constructor(init: BucketShuffleInit<T, B>) {
    super({ runner: init.parent.runner, dependencies: [init.parent] })
    if (!Number.isInteger(init.numPartitions) || init.numPartitions < 1) {
      throw new SluiceError(
        ErrorCodes.INVALID_OPTION,
        `option 'numPartitions' must be a positive integer, got ${String(init.numPartitions)}`,
      )
    }
    this.numPartitions = init.numPartitions
    this.#parent = init.parent
    this.#writeBuckets = init.writeBuckets
  }

  override async prepareStages(signal?: AbortSignal): Promise<void> {
    await this.#mapOutputs(signal)
  }

  computeChunks(partition: number, ctx: TaskContext): Chunks<B> {
    if (!Number.isInteger(partition) || partition < 0 || partition >= this.numPartitions) {
      throw new SluiceError(
        ErrorCodes.INVALID_ARGUMENT,
        `${this} has no partition ${partition} (it has ${this.numPartitions})`,
      )
    }
    const outputs = this.#mapOutputs(ctx.signal)
    return (async function* reducePartition() {
      for (const output of await outputs) {
        const bucket = output[partition]!
        if (bucket.length > 0) yield bucket
      }
    })()
  }

  #mapOutputs(signal?: AbortSignal): Promise<Buckets<B>[]> {
    if (this.#outputs === undefined) {
      const parent = this.#parent
      const partitions = Array.from({ length: parent.numPartitions }, (_, i) => i)
      const run = parent.runner.runJob(
        parent,
        partitions,
        async (chunks, ctx) => {
          const buckets = await this.#writeBuckets(chunks, ctx)
          if (buckets.length !== this.numPartitions) {
            throw new SluiceError(
              ErrorCodes.INVALID_ARGUMENT,
              `a map task of ${this} returned ${buckets.length} buckets for ${this.numPartitions} partitions`,
            )
          }
          return buckets
        },
        signal ? { signal } : {},
      )
      this.#outputs = run
      run.catch(() => {
        if (this.#outputs === run) this.#outputs = undefined
      })
    }
    return this.#outputs
  }
}
