import {
  type ChunkedPartitionFunction,
  type Chunks,
  chunked,
  isAsyncIterable,
  MAX_CHUNK_LENGTH,
} from './chunks.ts'
import type { LineageStep } from './lineage-step.ts'
import type { Rdd } from './rdd.ts'
import type { TaskContext } from './task-context.ts'

/** The record-level form users write: read records one by one, produce records. */
export type PartitionFunction<T, U> = (
  records: AsyncIterable<T>,
  ctx: TaskContext,
) => AsyncIterable<U> | Iterable<U>

/** A MapPartitionsRdd: partition i is `fn` applied to the chunks of the parent's partition i. */
export function mapPartitionsStep<T, U>(parent: Rdd<T>, fn: ChunkedPartitionFunction<T, U>): LineageStep<U> {
  return {
    name: 'MapPartitionsRdd',
    parents: [parent],
    numPartitions: parent.numPartitions,
    computeChunks: (partition, ctx) => fn(parent.computeChunks(partition, ctx), ctx),
    // One-to-one with the parent, so the parent describes the data best (e.g. a Kafka range).
    describePartition: (partition) => parent.describePartition(partition),
  }
}

/** Adapts a record-level function to the chunked primitive, on both its input and output side. */
export function chunkedPartitionFunction<T, U>(fn: PartitionFunction<T, U>): ChunkedPartitionFunction<T, U> {
  return (chunks, ctx) => {
    const input = new RecordStream(chunks)
    const output = fn(input, ctx)
    return isAsyncIterable<U>(output) ? regroup(output, input) : chunked(output)
  }
}

/** Records of a chunk stream, counting how many chunks it has handed out completely. */
class RecordStream<T> implements AsyncIterable<T> {
  readonly #chunks: Chunks<T>
  /** Chunks whose last record has been handed out; the next read would pull a new chunk. */
  finishedChunks = 0
  /** The input has ended: no read can pull anything any more. */
  exhausted = false

  constructor(chunks: Chunks<T>) {
    this.#chunks = chunks
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for await (const chunk of this.#chunks) {
      const last = chunk.length - 1
      for (let i = 0; i <= last; i++) {
        if (i === last) this.finishedChunks++
        yield chunk[i]!
      }
    }
    this.exhausted = true
  }
}

/**
 * Regroups a per-record output into chunks. While input remains, a chunk is emitted as soon
 * as the function has finished an input chunk, so output keeps pace with input and `take`
 * stops the source within one chunk; functions that read everything first (a sort) still
 * emit full-size chunks.
 */
async function* regroup<T, U>(output: AsyncIterable<U>, input: RecordStream<T>): Chunks<U> {
  let buffer: U[] = []
  let flushedAt = 0
  for await (const value of output) {
    buffer.push(value)
    const finishedAnInputChunk = !input.exhausted && input.finishedChunks !== flushedAt
    if (finishedAnInputChunk || buffer.length >= MAX_CHUNK_LENGTH) {
      flushedAt = input.finishedChunks
      yield buffer
      buffer = []
    }
  }
  if (buffer.length > 0) yield buffer
}
