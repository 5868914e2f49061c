// Shared fixtures for the rdd tests: quiet runners and sources that record what they were asked.
import { silentLogger } from '../../src/core/logger.ts'
import { type ChunkSource, fromSource } from '../../src/rdd/source-rdd.ts'
import type { TaskContext } from '../../src/rdd/task-context.ts'
import { TaskRunner, type TaskRunnerOptions } from '../../src/rdd/task-runner.ts'

/** A runner that retries at once and logs nothing, so failure tests stay fast and quiet. */
export function quietRunner(options: TaskRunnerOptions = {}): TaskRunner {
  return new TaskRunner({ retryBackoffMs: 0, logger: silentLogger, ...options })
}

export interface SourceStats {
  /** Contexts of every computeChunks call, in call order. */
  readonly computed: TaskContext[]
  /** Per partition: how many chunks the consumer pulled. */
  readonly chunksPulled: number[]
  /** Per partition: how many times iteration ended early or normally (the generator closed). */
  readonly closed: number[]
}

/**
 * A root RDD over `partitions` (one array of chunks each) that counts what is read: which
 * partitions were computed with which context, how many chunks each handed out.
 */
export function countingSource<T>(
  partitions: readonly (readonly (readonly T[])[])[],
  runner: TaskRunner = quietRunner(),
  extra?: (partition: number, ctx: TaskContext) => Promise<void> | void,
) {
  const stats: SourceStats = {
    computed: [],
    chunksPulled: partitions.map(() => 0),
    closed: partitions.map(() => 0),
  }
  const source: ChunkSource<T> = (partition, ctx) => {
    stats.computed.push(ctx)
    return (async function* read() {
      try {
        await extra?.(partition, ctx)
        for (const chunk of partitions[partition]!) {
          stats.chunksPulled[partition]!++
          yield chunk
        }
      } finally {
        stats.closed[partition]!++
      }
    })()
  }
  return { rdd: fromSource(partitions.length, source, { runner }), stats }
}

/** Integers [from, to) split into chunks of `size`. */
export function chunksOfRange(from: number, to: number, size: number): number[][] {
  const chunks: number[][] = []
  for (let start = from; start < to; start += size) {
    chunks.push(Array.from({ length: Math.min(size, to - start) }, (_, i) => start + i))
  }
  return chunks
}

/** Resolves after a few turns of the event loop, letting other tasks start meanwhile. */
export function yieldToEventLoop(turns = 3): Promise<void> {
  return new Promise((resolve) => {
    const step = (left: number) => (left === 0 ? resolve() : setImmediate(() => step(left - 1)))
    step(turns)
  })
}

/** Pairs sorted by key then value, for comparing shuffle output without depending on hash order. */
export function sortedPairs<K, V>(pairs: readonly [K, V][]): [K, V][] {
  const text = (value: unknown) =>
    JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? { bigint: `${v}` } : v))
  return [...pairs].sort((a, b) => (text(a) < text(b) ? -1 : text(a) > text(b) ? 1 : 0))
}

/** Array.fromAsync, which the project's `lib: es2024` does not declare yet. */
export async function arrayFromAsync<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const value of iterable) out.push(value)
  return out
}
