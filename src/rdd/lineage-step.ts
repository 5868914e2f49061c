import type { Chunks } from './chunks.ts'
import type { Rdd } from './rdd.ts'
import type { TaskContext } from './task-context.ts'

/**
 * What an operation (map, union, shuffle...) adds to the lineage graph: its parents and how
 * it computes a partition from them. `Rdd` wraps a step in a node. Steps live in their own
 * files and import `Rdd` only as a type, so no operation module has to extend `Rdd` in a
 * module that `rdd.ts` itself imports (an ES module cycle that breaks class evaluation).
 */
export interface LineageStep<T> {
  /** Class-like name used in messages, e.g. `MapPartitionsRdd`. */
  readonly name: string
  readonly parents: readonly Rdd<unknown>[]
  readonly numPartitions: number
  computeChunks(partition: number, ctx: TaskContext): Chunks<T>
  describePartition?(partition: number): string
  /** Runs whatever must finish before any partition is computed (a shuffle's map stage). */
  prepareStages?(signal?: AbortSignal): Promise<void>
}
