import { ErrorCodes, SluiceError } from '../core/errors.ts'
import type { TaskContext } from '../rdd/task-context.ts'
import { DerivedDStream, type DStream } from '../stream/dstream.ts'
import { StateEngine } from '../stream/state/state-engine.ts'
import { PartitionDelta } from '../stream/state/state-partition.ts'
import { resolveUpdateStateSettings } from '../stream/state/state-spec.ts'
import type { PartitionUpdater } from '../stream/state/state-update.ts'
import type { PythonStages, StagedStream } from './python-plan.ts'
import type { FunctionDigest, PyBlob } from './stage.ts'

export interface PythonStateOptions {
  readonly fn: FunctionDigest
  readonly partitions: number
  readonly name?: string | null
  readonly checkpointInterval?: number | null
}

/**
 * `update_state_by_key` for Python: the engine's state machinery (snapshots in the
 * checkpoint, recovery by recomputing the batches after the newest snapshot) keeps one
 * entry per bucket of keys, whose state is the bucket's per-key Python state, pickled
 * (base64 in snapshots: data, never code). Each batch a worker groups the batch's values
 * by key into buckets (the same hash as shuffles); then for every bucket with values or
 * state, a worker runs the user's function over its keys and answers the new state.
 */
export function pythonStateStream(
  stages: PythonStages,
  staged: StagedStream,
  options: PythonStateOptions,
): StagedStream {
  const context = staged.base.context
  const partitions = options.partitions
  const byBucket = staged.base.transform((rdd) => {
    const spec = stages.spec(
      { ...staged, base: rdd },
      {
        kind: 'buckets',
        partitions,
        aggregator: { kind: 'group' },
      },
    )
    return rdd.mapPartitionChunks(async function* grouped(chunks, ctx) {
      const buckets = (await stages.runner.run(spec, chunks, ctx)) as ([number, Buffer] | null)[]
      const out: [number, PyBlob][] = []
      buckets.forEach((entry, bucket) => {
        if (entry !== null) out.push([bucket, { count: entry[0], data: entry[1] }])
      })
      if (out.length > 0) yield out
    })
  }) as DStream<[number, PyBlob]>
  const settings = resolveUpdateStateSettings<number, string>(context, {
    numPartitions: partitions,
    ...(options.name ? { name: options.name } : {}),
    ...(options.checkpointInterval ? { checkpointInterval: options.checkpointInterval } : {}),
  })
  const engine = new StateEngine<number, PyBlob, string, never>({
    parent: byBucket,
    settings,
    updater: bucketUpdater(stages, options.fn),
  })
  const snapshots = new DerivedDStream<[number, string]>(context, {
    parents: [byBucket],
    compute: (batch) => engine.snapshotRdd(batch),
    hooks: engine.hooks,
  })
  return { base: snapshots as DStream<unknown>, input: { kind: 'states' }, ops: [] }
}

function bucketUpdater(
  stages: PythonStages,
  fn: FunctionDigest,
): PartitionUpdater<number, PyBlob, string, never> {
  const spec = { input: { kind: 'state', fn } as const, ops: [], output: { kind: 'pickled' } as const }
  const update = async (
    state: string | undefined,
    values: readonly PyBlob[],
  ): Promise<string | undefined> => {
    // One small task per bucket; its own owner, so the pool treats it as a task of its own.
    const ctx = { signal: new AbortController().signal } as TaskContext
    const input = (async function* one() {
      yield [
        {
          state: state === undefined ? null : Buffer.from(state, 'base64'),
          values: values.map((v) => v.data),
        },
      ]
    })()
    let next: string | undefined
    await stages.runner.run(spec, input, ctx, (blobs) => {
      const [blob] = blobs
      if (blob) next = (pickleOfState(blob) ?? Buffer.alloc(0)).toString('base64')
    })
    return next
  }
  return async (base, grouped, _batch, token) => {
    const delta = new PartitionDelta<number, string>()
    for await (const chunk of grouped) {
      for (const [bucket, values] of chunk) {
        const entry = base.get(bucket, undefined)
        if (entry !== undefined) entry.mark = token
        const next = await update(entry?.state, values)
        if (next !== undefined) delta.put(entry, bucket, undefined, next, true)
        else if (entry !== undefined) delta.remove(entry)
      }
    }
    for (const entry of base.entries()) {
      if (entry.mark === token) continue
      const next = await update(entry.state, [])
      if (next === undefined) delta.remove(entry)
      else delta.put(entry, entry.key, undefined, next, false)
    }
    return { delta, emitted: [] }
  }
}

/** The worker answers the bucket's new state as the one item of a pickled list. */
function pickleOfState(blob: PyBlob): Buffer | undefined {
  if (blob.count !== 1) {
    throw new SluiceError(
      ErrorCodes.PYTHON_CHANNEL,
      `a state update answered ${blob.count} items instead of one`,
    )
  }
  return blob.data
}
