import { describeValue } from '../core/describe-value.ts'
import { ErrorCodes, SluiceError } from '../core/errors.ts'
import type { Chunks } from './chunks.ts'
import type { ActionOptions, Rdd } from './rdd.ts'

/** How much bigger each round of `take` may be than everything scanned before (Spark's default). */
export const TAKE_SCALE_UP_FACTOR = 4

/**
 * The first `n` records in partition order, reading as little as possible: one partition
 * first, then more partitions per round, sized from how many records the scanned ones held.
 * Each task stops reading its partition as soon as it has what is still missing.
 */
export async function take<T>(rdd: Rdd<T>, n: number, options: ActionOptions = {}): Promise<T[]> {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
    throw new SluiceError(
      ErrorCodes.INVALID_ARGUMENT,
      `take(n) needs a non-negative integer, got ${describeValue(n)}`,
    )
  }
  const taken: T[] = []
  let scanned = 0
  while (taken.length < n && scanned < rdd.numPartitions) {
    const end = Math.min(scanned + partitionsToTry(n, taken.length, scanned), rdd.numPartitions)
    const partitions = Array.from({ length: end - scanned }, (_, i) => scanned + i)
    const missing = n - taken.length
    const parts = await rdd.runner.runJob(
      rdd,
      partitions,
      (chunks) => takeFromChunks(chunks, missing),
      options,
    )
    for (const part of parts) {
      for (let i = 0; i < part.length && taken.length < n; i++) taken.push(part[i]!)
    }
    scanned = end
  }
  return taken
}

/** Spark's estimate: after an empty round scan ×4 more; else 1.5× what the density suggests, capped at ×4. */
export function partitionsToTry(n: number, found: number, scanned: number): number {
  if (scanned === 0) return 1
  if (found === 0) return scanned * TAKE_SCALE_UP_FACTOR
  const estimate = Math.ceil((1.5 * n * scanned) / found) - scanned
  return Math.min(Math.max(estimate, 1), scanned * TAKE_SCALE_UP_FACTOR)
}

async function takeFromChunks<T>(chunks: Chunks<T>, wanted: number): Promise<T[]> {
  const out: T[] = []
  for await (const chunk of chunks) {
    for (let i = 0; i < chunk.length && out.length < wanted; i++) out.push(chunk[i]!)
    // Leaving the loop calls the iterator's return(), which stops a lazy source from reading on.
    if (out.length >= wanted) break
  }
  return out
}
