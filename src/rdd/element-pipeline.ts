import { type Chunks, MAX_CHUNK_LENGTH } from './chunks.ts'
import type { LineageStep } from './lineage-step.ts'
import type { Rdd } from './rdd.ts'

/** One record-at-a-time operation of a narrow pipeline. */
export type ElementOp =
  | { readonly kind: 'map'; readonly fn: (value: never) => unknown }
  | { readonly kind: 'filter'; readonly fn: (value: never) => boolean }
  | { readonly kind: 'flatMap'; readonly fn: (value: never) => Iterable<unknown> }

/** A pipeline step remembers its parent and ops so the next narrow op can extend it. */
export interface PipelineStep<T> extends LineageStep<T> {
  readonly pipeline: { readonly parent: Rdd<unknown>; readonly ops: readonly ElementOp[] }
}

/**
 * Consecutive `map`, `filter` and `flatMap` calls fuse into one step (Spark pipelines narrow
 * operations the same way): each input chunk runs through all of them in one synchronous
 * pass, so `flatMap(split).map(toPair)` allocates no intermediate array per operation and
 * crosses one async boundary per chunk instead of one per operation.
 */
export function pipelineStep<T>(parent: Rdd<unknown>, ops: readonly ElementOp[]): PipelineStep<T> {
  return {
    name: 'MapPartitionsRdd',
    parents: [parent],
    numPartitions: parent.numPartitions,
    pipeline: { parent, ops },
    // Compiled per task, so concurrent partitions never share the pipeline's output target.
    computeChunks: (partition, ctx) => piped(parent.computeChunks(partition, ctx), compile(ops)) as Chunks<T>,
    // One-to-one with the parent, so the parent describes the data best (e.g. a Kafka range).
    describePartition: (partition) => parent.describePartition(partition),
  }
}

async function* piped(chunks: Chunks<unknown>, pipeline: CompiledPipeline) {
  for await (const chunk of chunks) {
    // Output chunks stay small even when a flatMap multiplies the records: arrays of tens of
    // thousands of elements go straight to V8's old generation and make GC expensive.
    let out: unknown[] = []
    pipeline.into(out)
    for (let i = 0; i < chunk.length; i++) {
      pipeline.push(chunk[i])
      if (out.length >= MAX_CHUNK_LENGTH) {
        yield out
        out = []
        pipeline.into(out)
      }
    }
    if (out.length > 0) yield out
  }
}

interface CompiledPipeline {
  /** Where the next outputs go. */
  into(out: unknown[]): void
  /** Runs one input record through every op. */
  push(value: unknown): void
}

/** Builds the chain of ops back to front: each op calls the next one directly. */
function compile(ops: readonly ElementOp[]): CompiledPipeline {
  let target: unknown[] = []
  const push = compileInto(ops, (value) => {
    target.push(value)
  })
  return {
    into: (out) => {
      target = out
    },
    push,
  }
}

/**
 * The ops as one function that runs a record through all of them and hands each output to
 * `sink`: a consumer that folds records as they come (a shuffle's map-side combine) takes
 * them with no chunk arrays in between.
 */
export function compileInto(
  ops: readonly ElementOp[],
  sink: (value: unknown) => void,
): (value: unknown) => void {
  let emit = sink
  for (let i = ops.length - 1; i >= 0; i--) {
    const next = emit
    const op = ops[i]!
    const fn = op.fn as (value: unknown) => unknown
    if (op.kind === 'map') {
      emit = (value) => next(fn(value))
    } else if (op.kind === 'filter') {
      emit = (value) => {
        if (fn(value)) next(value)
      }
    } else {
      emit = (value) => {
        const produced = fn(value) as Iterable<unknown>
        // Most flatMap functions return arrays (split, a literal): index them rather than
        // going through the iterator protocol, which allocates a result object per element.
        if (Array.isArray(produced)) {
          for (let j = 0; j < produced.length; j++) next(produced[j])
        } else {
          for (const one of produced) next(one)
        }
      }
    }
  }
  return emit
}
