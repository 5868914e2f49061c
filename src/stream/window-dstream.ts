import { ErrorCodes, SluiceError } from '../core/errors.ts'
import type { Rdd } from '../rdd/rdd.ts'
import type { TaskRunner } from '../rdd/task-runner.ts'
import type { BatchRef } from './batch.ts'
import { DerivedDStream, type DStream } from './dstream.ts'
import { MemoryRdd } from './memory-rdd.ts'
import { type BatchSpan, emitsAt, resolveWindow, type WindowSpec, windowSpan } from './window-spec.ts'

/**
 * The RDDs `stream` has for the batches of `span`, for the window emitted at batch `at`.
 * After a restart the context has read the plans of these batches back from the offset log,
 * so their RDDs re-read exactly the same Kafka ranges: a window needs no copy of old data.
 */
export function rddsInSpan<T>(stream: DStream<T>, span: BatchSpan, at: number): Rdd<T>[] {
  const rdds: Rdd<T>[] = []
  for (let id = span.from; id <= span.to; id++) {
    const ref = stream.context.batchRefOf(id)
    if (ref === undefined) {
      throw new SluiceError(
        ErrorCodes.STATE,
        `the window of batch ${at} needs batch ${id}, whose plan is no longer known; ` +
          'this is a bug: the context keeps the plans of every batch a window covers',
        { details: { batchId: at, missingBatchId: id } },
      )
    }
    const rdd = stream.getOrCompute(ref)
    if (rdd !== undefined) rdds.push(rdd)
  }
  return rdds
}

export function unionOf<T>(rdds: readonly Rdd<T>[]): Rdd<T> | undefined {
  const [first, ...rest] = rdds
  return first === undefined ? undefined : rest.length === 0 ? first : first.union(...rest)
}

/** `window(length, slide)`: every slide, the union of the parent's batches in the window. */
export function windowStream<T>(parent: DStream<T>, length: number, slide: number | undefined): DStream<T> {
  const spec = resolveWindow(parent.context.batchInterval, length, slide)
  return windowOf(parent, spec)
}

export function windowOf<T>(parent: DStream<T>, spec: WindowSpec): DStream<T> {
  return new DerivedDStream<T>(parent.context, {
    parents: [parent],
    extraHistory: spec.lengthBatches - 1,
    compute: (batch) =>
      emitsAt(spec, batch.id) ? unionOf(rddsInSpan(parent, windowSpan(spec, batch.id), batch.id)) : undefined,
  })
}

/**
 * A one-element RDD (none when `compute` returns undefined) whose value is computed once,
 * by the first action, and then kept while the batch is remembered: a window that slides
 * over this batch L times reads its data once, not L times.
 */
export function valueRdd<T>(
  runner: TaskRunner,
  compute: (signal?: AbortSignal) => Promise<{ value: T } | undefined>,
): MemoryRdd<T> {
  let result: { value: T } | undefined
  return new MemoryRdd<T>(
    1,
    {
      load: async (signal) => {
        result = await compute(signal)
      },
      chunks: () => (result === undefined ? [] : [[result.value]]),
    },
    runner,
    'ValueRdd',
  )
}

/** All records of `rdd` combined with `fn` in one job; undefined when it is empty. */
export async function reduceAll<T>(
  rdd: Rdd<T>,
  fn: (a: T, b: T) => T,
  signal?: AbortSignal,
): Promise<{ value: T } | undefined> {
  const partitions = Array.from({ length: rdd.numPartitions }, (_, i) => i)
  const partials = await rdd.runner.runJob(
    rdd,
    partitions,
    async (chunks) => {
      let found: { value: T } | undefined
      for await (const chunk of chunks) {
        for (let i = 0; i < chunk.length; i++) {
          found = found === undefined ? { value: chunk[i]! } : { value: fn(found.value, chunk[i]!) }
        }
      }
      return found
    },
    signal ? { signal } : {},
  )
  let result: { value: T } | undefined
  for (const partial of partials) {
    if (partial === undefined) continue
    result = result === undefined ? partial : { value: fn(result.value, partial.value) }
  }
  return result
}

/** Per batch, `fn` over the batch's records (one value, or none for an empty batch), computed once. */
function reducedPerBatch<T>(parent: DStream<T>, fn: (a: T, b: T) => T): DStream<T> {
  return parent.transform((rdd: Rdd<T>) => valueRdd(rdd.runner, (signal) => reduceAll(rdd, fn, signal)))
}

/** Combines the per-batch values of a window (a union of value RDDs) into one value. */
function reduceWindow<T>(windowed: DStream<T>, fn: (a: T, b: T) => T): DStream<T> {
  return windowed.transform((rdd: Rdd<T>, _batch: BatchRef) =>
    valueRdd(rdd.runner, (signal) => reduceAll(rdd, fn, signal)),
  )
}

/**
 * `reduceByWindow(fn, length, slide)`: one element per window (none for an empty window).
 * Each batch is reduced once to a single value, kept while the batch is in some window.
 */
export function reduceByWindowStream<T>(
  parent: DStream<T>,
  fn: (a: T, b: T) => T,
  length: number,
  slide: number | undefined,
): DStream<T> {
  const spec = resolveWindow(parent.context.batchInterval, length, slide)
  return reduceWindow(windowOf(reducedPerBatch(parent, fn), spec), fn)
}

/**
 * `countByWindow(length, slide)`: one count per window (0 for an empty one). Each batch is
 * counted once; a Kafka batch counts from its offsets without reading a record.
 */
export function countByWindowStream<T>(
  parent: DStream<T>,
  length: number,
  slide: number | undefined,
): DStream<number> {
  const spec = resolveWindow(parent.context.batchInterval, length, slide)
  const counts = parent.transform((rdd: Rdd<T>) =>
    valueRdd(rdd.runner, async (signal) => ({ value: await rdd.count(signal ? { signal } : {}) })),
  )
  return reduceWindow(windowOf(counts, spec), (a, b) => a + b)
}
