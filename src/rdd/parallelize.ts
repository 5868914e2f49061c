import {
  instanceOption,
  optionOrDefault,
  optionsObject,
  parseOptions,
  positiveInteger,
} from '../core/options.ts'
import type { Chunks } from './chunks.ts'
import { Rdd } from './rdd.ts'
import { TaskRunner } from './task-runner.ts'

/** Options of `parallelize`. */
export interface ParallelizeOptions {
  /**
   * Runs this RDD's jobs and those of everything derived from it; default `defaultTaskRunner`.
   * @internal
   */
  runner?: TaskRunner
  /** Records per chunk handed to tasks. Default 1024. */
  chunkSize?: number
}

export const DEFAULT_PARALLELIZE_CHUNK_SIZE = 1024

const parallelizeOptions = optionsObject({
  runner: instanceOption(TaskRunner, 'a TaskRunner'),
  chunkSize: positiveInteger,
})

/** An in-memory dataset split into contiguous slices, as Spark's `parallelize` does. */
export class ParallelCollectionRdd<T> extends Rdd<T> {
  readonly numPartitions: number
  readonly #slices: readonly (readonly T[])[]
  readonly #chunkSize: number

  constructor(data: readonly T[], numPartitions: number = 1, options: ParallelizeOptions = {}) {
    const given = parseOptions(parallelizeOptions, options, 'parallelize')
    super({ runner: given.runner })
    this.numPartitions = optionOrDefault(positiveInteger, numPartitions, 'numPartitions', 1)
    this.#chunkSize = given.chunkSize ?? DEFAULT_PARALLELIZE_CHUNK_SIZE
    // Slices are copied now so that later changes to `data` cannot change a recomputation.
    this.#slices = Array.from({ length: this.numPartitions }, (_, i) =>
      data.slice(
        Math.floor((i * data.length) / this.numPartitions),
        Math.floor(((i + 1) * data.length) / this.numPartitions),
      ),
    )
  }

  async *computeChunks(partition: number): Chunks<T> {
    const slice = this.#slices[partition] ?? []
    for (let start = 0; start < slice.length; start += this.#chunkSize) {
      yield slice.slice(start, start + this.#chunkSize)
    }
  }
}

/** Builds a root RDD from an array: partition i holds the i-th of `numPartitions` contiguous slices. */
export function parallelize<T>(
  data: readonly T[],
  numPartitions = 1,
  options: ParallelizeOptions = {},
): Rdd<T> {
  return new ParallelCollectionRdd(data, numPartitions, options)
}
