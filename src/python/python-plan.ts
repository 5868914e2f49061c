import { ErrorCodes, SluiceError } from '../core/errors.ts'
import { BucketShuffleRdd } from '../rdd/bucket-shuffle.ts'
import type { Rdd } from '../rdd/rdd.ts'
import type { DStream } from '../stream/dstream.ts'
import type {
  AggregatorSpec,
  FunctionDigest,
  InputSpec,
  OperationSpec,
  OutputSpec,
  PyBlob,
  StageSpec,
} from './stage.ts'
import type { StageRunner } from './stage-runner.ts'

/**
 * A Python dataset as the engine builds it: a TypeScript RDD (Kafka records, or blobs of
 * pickled Python values) plus the Python operations still to run over it. Narrow
 * operations only add to `ops`, so consecutive ones fuse into one stage and a chunk
 * crosses to Python once; a shuffle, a window, a union or an action runs them.
 */
export interface Staged<R> {
  readonly base: R
  readonly input: InputSpec
  readonly ops: readonly OperationSpec[]
}

export type StagedRdd = Staged<Rdd<unknown>>
export type StagedStream = Staged<DStream<unknown>>

export function withOperation<R>(staged: Staged<R>, op: OperationSpec): Staged<R> {
  return { ...staged, ops: [...staged.ops, op] }
}

/** Whether running the stage would change nothing: the base already holds the records. */
function isPlain(staged: Staged<unknown>): boolean {
  return staged.input.kind === 'pickled' && staged.ops.length === 0
}

/** What a Python stage over an RDD does; all RDD-level plumbing of the Python API is here. */
export class PythonStages {
  readonly runner: StageRunner

  constructor(runner: StageRunner) {
    this.runner = runner
  }

  spec(staged: Staged<unknown>, output: OutputSpec): StageSpec {
    return { input: staged.input, ops: staged.ops, output }
  }

  /** The records as pickled blobs, with every pending operation run. */
  materialize(staged: StagedRdd): Rdd<PyBlob> {
    if (isPlain(staged)) return staged.base as Rdd<PyBlob>
    const spec = this.spec(staged, { kind: 'pickled' })
    return staged.base.mapPartitionChunks((chunks, ctx) => this.runner.stream(spec, chunks, ctx))
  }

  /**
   * A shuffle by key: each map task's worker combines its pairs and splits them into
   * `partitions` buckets by a hash that does not depend on PYTHONHASHSEED (or by the user's
   * partition function); the engine only moves the buckets; reduce tasks merge them in the
   * next stage.
   */
  shuffle(
    staged: StagedRdd,
    aggregator: AggregatorSpec,
    partitions: number | undefined,
    partitioner: FunctionDigest | null = null,
  ): StagedRdd {
    const numPartitions = partitions ?? Math.max(1, staged.base.numPartitions)
    const spec = this.spec(staged, { kind: 'buckets', partitions: numPartitions, aggregator, partitioner })
    const base = new BucketShuffleRdd<unknown, PyBlob>({
      parent: staged.base,
      numPartitions,
      writeBuckets: async (chunks, ctx) => {
        const result = (await this.runner.run(spec, chunks, ctx)) as ([number, Buffer] | null)[]
        return result.map((entry) => (entry === null ? [] : [{ count: entry[0], data: entry[1] }]))
      },
    })
    return { base, input: { kind: 'combiners', merge: aggregator }, ops: [] }
  }

  /** (key, state) pairs as a stateful stream's initial state: `[key id, pickle((key, state))]`. */
  statePairs(staged: StagedRdd): Rdd<[string, Buffer]> {
    const spec = this.spec(staged, { kind: 'state_pairs' })
    const runner = this.runner
    return staged.base.mapPartitionChunks(async function* pairs(chunks, ctx) {
      const found = (await runner.run(spec, chunks, ctx)) as [string, Buffer][]
      if (found.length > 0) yield found
    })
  }

  union(parts: readonly StagedRdd[]): StagedRdd {
    const [first, ...rest] = parts.map((part) => this.materialize(part))
    if (first === undefined)
      throw new SluiceError(ErrorCodes.INVALID_ARGUMENT, 'union() needs at least one RDD')
    return { base: rest.length === 0 ? first : first.union(...rest), input: { kind: 'pickled' }, ops: [] }
  }

  /** Runs the stage's job with its own output over the given partitions (all by default). */
  runJob(
    staged: StagedRdd,
    output: OutputSpec,
    partitions?: readonly number[],
    signal?: AbortSignal,
  ): Promise<unknown[]> {
    const spec = this.spec(staged, output)
    const base = staged.base
    const wanted = partitions ?? Array.from({ length: base.numPartitions }, (_, i) => i)
    return base.runner.runJob(
      base,
      wanted,
      (chunks, ctx) => this.runner.run(spec, chunks, ctx),
      signal ? { signal } : {},
    )
  }

  // ---- the same over streams: each batch's RDD goes through the RDD form ----

  materializeStream(staged: StagedStream): DStream<PyBlob> {
    if (isPlain(staged)) return staged.base as DStream<PyBlob>
    return staged.base.transform((rdd) => this.materialize({ ...staged, base: rdd }))
  }

  shuffleStream(
    staged: StagedStream,
    aggregator: AggregatorSpec,
    partitions: number | undefined,
    partitioner: FunctionDigest | null = null,
  ): StagedStream {
    const base = staged.base.transform(
      (rdd) => this.shuffle({ ...staged, base: rdd }, aggregator, partitions, partitioner).base,
    )
    return { base, input: { kind: 'combiners', merge: aggregator }, ops: [] }
  }

  unionStreams(parts: readonly StagedStream[]): StagedStream {
    const [first, ...rest] = parts.map((part) => this.materializeStream(part))
    if (first === undefined)
      throw new SluiceError(ErrorCodes.INVALID_ARGUMENT, 'union() needs at least one stream')
    return { base: rest.length === 0 ? first : first.union(...rest), input: { kind: 'pickled' }, ops: [] }
  }
}
