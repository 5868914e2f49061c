import { type Chunks, MAX_CHUNK_LENGTH } from '../rdd/chunks.ts'
import { Rdd } from '../rdd/rdd.ts'
import type { TaskContext } from '../rdd/task-context.ts'
import type { TaskRunner } from '../rdd/task-runner.ts'

/** Where a MemoryRdd's partitions come from. */
export interface MemorySource<T> {
  /** Fills the partitions; the RDD calls it once (again only after a failure). */
  load(signal?: AbortSignal): Promise<void>
  /** The records of one partition as chunks; called only after `load` succeeded. */
  chunks(partition: number): Iterable<readonly T[]>
}

/**
 * A root RDD whose partitions are held in memory once a job has filled them — the result of a
 * window that the next window builds on, or the output of a state update. Loading runs as a
 * "stage": the task runner calls `prepareStages` before a job takes any task slot, so the
 * job that loads (it has tasks of its own) cannot deadlock the pool. Concurrent actions share
 * one load; a failed load is forgotten so that the next action tries again, like a shuffle.
 *
 * It reports no dependencies: once loaded, nothing upstream is read again, and the lineage
 * behind it (a chain of earlier windows) can be collected.
 */
export class MemoryRdd<T> extends Rdd<T> {
  readonly numPartitions: number
  readonly #source: MemorySource<T>
  readonly #name: string
  #loading: Promise<void> | undefined
  #loaded = false

  constructor(numPartitions: number, source: MemorySource<T>, runner: TaskRunner, name = 'MemoryRdd') {
    super({ runner })
    this.numPartitions = numPartitions
    this.#source = source
    this.#name = name
  }

  /** Whether the partitions are in memory (a load finished). */
  get loaded(): boolean {
    return this.#loaded
  }

  load(signal?: AbortSignal): Promise<void> {
    if (this.#loaded) return Promise.resolve()
    if (this.#loading === undefined) {
      const loading = this.#source.load(signal).then(() => {
        this.#loaded = true
      })
      this.#loading = loading
      loading.catch(() => {
        if (this.#loading === loading) this.#loading = undefined
      })
    }
    return this.#loading
  }

  override prepareStages(signal?: AbortSignal): Promise<void> {
    return this.load(signal)
  }

  computeChunks(partition: number, ctx: TaskContext): Chunks<T> {
    const rdd = this
    return (async function* memoryPartition() {
      // Normally loaded already (prepareStages); reached some other way, load on first use.
      await rdd.load(ctx.signal)
      yield* rdd.#source.chunks(partition)
    })()
  }

  override toString(): string {
    return `${this.#name}[${this.id}]`
  }
}

/** Every partition of `rdd`, computed by one job through its runner. */
export async function collectPartitions<T>(rdd: Rdd<T>, signal?: AbortSignal): Promise<T[][]> {
  const partitions = Array.from({ length: rdd.numPartitions }, (_, i) => i)
  return rdd.runner.runJob(
    rdd,
    partitions,
    async (chunks) => {
      const out: T[] = []
      for await (const chunk of chunks) for (let i = 0; i < chunk.length; i++) out.push(chunk[i]!)
      return out
    },
    signal ? { signal } : {},
  )
}

/** An array as chunks of at most MAX_CHUNK_LENGTH records, without copying a short one. */
export function* arrayChunks<T>(records: readonly T[]): Generator<readonly T[]> {
  if (records.length <= MAX_CHUNK_LENGTH) {
    if (records.length > 0) yield records
    return
  }
  for (let start = 0; start < records.length; start += MAX_CHUNK_LENGTH) {
    yield records.slice(start, start + MAX_CHUNK_LENGTH)
  }
}

/** An RDD over arrays already in memory (one per partition). */
export function memoryRddOf<T>(
  partitions: readonly (readonly T[])[],
  runner: TaskRunner,
  name?: string,
): MemoryRdd<T> {
  return new MemoryRdd(
    Math.max(1, partitions.length),
    { load: () => Promise.resolve(), chunks: (p) => arrayChunks(partitions[p] ?? []) },
    runner,
    name,
  )
}
