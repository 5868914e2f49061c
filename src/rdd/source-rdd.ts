import {
  functionArgument,
  instanceOption,
  optionOrDefault,
  optionsObject,
  parseOptions,
  positiveInteger,
} from '../core/options.ts'
import { type Chunks, toAsyncChunks } from './chunks.ts'
import { Rdd } from './rdd.ts'
import type { TaskContext } from './task-context.ts'
import { TaskRunner } from './task-runner.ts'

/** Produces one partition's chunks; called afresh for every task attempt. */
export type ChunkSource<T> = (partition: number, ctx: TaskContext) => Chunks<T> | Iterable<readonly T[]>

/** Options of `fromSource`. */
export interface SourceRddOptions {
  /**
   * Runs this RDD's jobs and those of everything derived from it; default `defaultTaskRunner`.
   * @internal
   */
  runner?: TaskRunner
}

const sourceRddOptions = optionsObject({ runner: instanceOption(TaskRunner, 'a TaskRunner') })

/** A root RDD whose partitions come from a function: a custom reader, or a counting/failing test source. */
export class SourceRdd<T> extends Rdd<T> {
  readonly numPartitions: number
  readonly #source: ChunkSource<T>

  constructor(numPartitions: number, source: ChunkSource<T>, options: SourceRddOptions = {}) {
    super({ runner: parseOptions(sourceRddOptions, options, 'fromSource').runner })
    this.numPartitions = optionOrDefault(positiveInteger, numPartitions, 'numPartitions', 1)
    this.#source = functionArgument<ChunkSource<T>>('source', source)
  }

  computeChunks(partition: number, ctx: TaskContext): Chunks<T> {
    return toAsyncChunks(this.#source(partition, ctx))
  }
}

/** A root RDD whose partitions come from `source(partition, ctx)`: arrays of records, sync or async; called afresh for every task attempt, so it must return the same records each time. */
export function fromSource<T>(
  numPartitions: number,
  source: ChunkSource<T>,
  options: SourceRddOptions = {},
): Rdd<T> {
  return new SourceRdd(numPartitions, source, options)
}
