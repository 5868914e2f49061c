import type { TaskContext } from './task-context.ts'

/**
 * Partitions flow as async iterables of record arrays ("chunks"), never record by record: an
 * await per record per layer costs ~100ns+, while a chunk makes each narrow op a plain
 * synchronous loop. A chunk may be empty; consumers must not mutate it.
 */
export type Chunks<T> = AsyncIterable<readonly T[]>

/** The one narrow primitive: turns a partition's chunks into new chunks. */
export type ChunkedPartitionFunction<T, U> = (chunks: Chunks<T>, ctx: TaskContext) => Chunks<U>

/** Longest chunk the engine builds itself when it has to regroup records. */
export const MAX_CHUNK_LENGTH = 4096

export function isAsyncIterable<T>(value: unknown): value is AsyncIterable<T> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as AsyncIterable<T>)[Symbol.asyncIterator] === 'function'
  )
}

/** Accepts sync sources too (handy for generators in tests) and always returns async chunks. */
export function toAsyncChunks<T>(source: Chunks<T> | Iterable<readonly T[]>): Chunks<T> {
  if (isAsyncIterable<readonly T[]>(source)) return source
  return (async function* fromSync() {
    yield* source
  })()
}

/** Groups a sync iterable of records into chunks of at most `size`. */
export async function* chunked<T>(values: Iterable<T>, size: number = MAX_CHUNK_LENGTH): Chunks<T> {
  let buffer: T[] = []
  for (const value of values) {
    buffer.push(value)
    if (buffer.length >= size) {
      yield buffer
      buffer = []
    }
  }
  if (buffer.length > 0) yield buffer
}

/** The records of a chunk stream one by one, for user functions that want per-record iteration. */
export async function* recordsOf<T>(chunks: Chunks<T>): AsyncGenerator<T> {
  for await (const chunk of chunks) yield* chunk
}
