import { ErrorCodes, SluiceError } from '../core/errors.ts'
import type { DStream } from '../stream/dstream.ts'
import type { JsonCodec } from '../stream/state/state-codec.ts'
import { statefulStreams } from '../stream/state/state-dstream.ts'
import type { StateEntry } from '../stream/state/state-partition.ts'
import { PartitionDelta } from '../stream/state/state-partition.ts'
import { resolveStatefulSettings, type StateTimeout } from '../stream/state/state-spec.ts'
import { isIdle, type PartitionUpdater } from '../stream/state/state-update.ts'
import type { PythonStages, StagedRdd, StagedStream } from './python-plan.ts'
import type { FunctionDigest, PyBlob, StageSpec } from './stage.ts'

/** A key's id (`sluice._hashing.key_id`: equal for keys Python finds equal) and its `pickle((key, state))`. */
type StatePair = [string, Buffer]

export interface PythonStateOptions {
  readonly fn: FunctionDigest
  readonly mode: 'update_by_key' | 'map_with_state'
  readonly partitions?: number | null
  readonly name?: string | null
  readonly checkpointInterval?: number | null
  /** map_with_state: ms of batch time, or a number of batches. */
  readonly timeout?: number | { readonly batches: number } | null
  /** The state before batch 0: pairs the driver pickled, or a Python RDD of (key, state) pairs. */
  readonly initialState?: readonly StatePair[] | StagedRdd | null
}

/** Pickled states in snapshots: base64 of Python's pickle bytes — data, never code. */
const pickleCodec: JsonCodec<Buffer> = {
  name: 'python-pickle',
  encode: (state) => state.toString('base64'),
  decode: (json) => Buffer.from(json as string, 'base64'),
}

/**
 * `update_state_by_key` and `map_with_state` for Python, on the engine's state machinery
 * (per-key state, snapshots in the checkpoint, recovery by recomputing the batches after the
 * newest snapshot, timeouts, initial state). The engine keeps each key under its Python key
 * id with its state pickled; it never unpickles either.
 *
 * Each batch a worker groups the batch's values by key (`keyed` output), the engine
 * shuffles the groups by key id, and for each state partition one worker task updates its
 * keys chunk by chunk: the keys with values, then (update_state_by_key) every other key with
 * state, or (map_with_state with a timeout) the keys idle for too long.
 */
export function pythonStateStreams(
  stages: PythonStages,
  staged: StagedStream,
  options: PythonStateOptions,
): { snapshots: StagedStream; emitted: StagedStream } {
  const context = staged.base.context
  const grouped = staged.base.transform((rdd) => {
    const spec = stages.spec({ ...staged, base: rdd }, { kind: 'keyed' })
    return rdd.mapPartitionChunks(async function* keyed(chunks, ctx) {
      const pairs = (await stages.runner.run(spec, chunks, ctx)) as StatePair[]
      if (pairs.length > 0) yield pairs
    })
  }) as DStream<StatePair>
  const initial = options.initialState
  const settings = resolveStatefulSettings<string, Buffer>(
    context,
    {
      stateCodec: pickleCodec,
      ...(options.partitions ? { numPartitions: options.partitions } : {}),
      ...(options.name ? { name: options.name } : {}),
      ...(options.checkpointInterval ? { checkpointInterval: options.checkpointInterval } : {}),
      ...(options.timeout ? { timeout: options.timeout } : {}),
      ...(initial
        ? { initialState: Array.isArray(initial) ? initial : stages.statePairs(initial as StagedRdd) }
        : {}),
    },
    options.mode === 'map_with_state' ? 'map_with_state' : 'update_state_by_key',
  )
  const { snapshots, emitted } = statefulStreams<string, Buffer, Buffer, PyBlob>({
    parent: grouped as unknown as DStream<[string, Buffer]>,
    settings,
    updater: pythonUpdater(stages, options.fn, options.mode, settings.timeout),
  })
  return {
    snapshots: { base: snapshots as DStream<unknown>, input: { kind: 'states' }, ops: [] },
    emitted: { base: emitted as DStream<unknown>, input: { kind: 'pickled' }, ops: [] },
  }
}

/** Which key an item of a chunk sent to the worker is about, and whether it had data. */
interface Visit {
  readonly key: string
  readonly entry: StateEntry<string, Buffer> | undefined
  readonly hadData: boolean
}

type Answer = [state: Buffer | true | null, emitted: [number, Buffer] | null]

const VISIT_CHUNK = 1024

function pythonUpdater(
  stages: PythonStages,
  fn: FunctionDigest,
  mode: PythonStateOptions['mode'],
  timeout: StateTimeout | undefined,
): PartitionUpdater<string, Buffer, Buffer, PyBlob> {
  const spec: StageSpec = { input: { kind: 'state', fn, mode }, ops: [], output: { kind: 'raw' } }
  return async (base, grouped, batch, token, ctx) => {
    const delta = new PartitionDelta<string, Buffer>()
    const emitted: PyBlob[] = []
    const sent: Visit[][] = []
    async function* items() {
      for await (const chunk of grouped) {
        const visits: Visit[] = []
        const out: unknown[] = []
        for (const [key, values] of chunk) {
          const entry = base.get(key, undefined)
          if (entry !== undefined) entry.mark = token
          visits.push({ key, entry, hadData: true })
          out.push([entry?.state ?? null, values, false])
        }
        if (out.length === 0) continue
        sent.push(visits)
        yield out
      }
      // update_state_by_key visits every key with state; map_with_state only keys timing out.
      let visits: Visit[] = []
      let out: unknown[] = []
      const flush = () => {
        sent.push(visits)
        const chunk = out
        visits = []
        out = []
        return chunk
      }
      if (mode === 'update_by_key') {
        for (const entry of base.entries()) {
          if (entry.mark === token) continue
          visits.push({ key: entry.key, entry, hadData: false })
          out.push([entry.state, [], false])
          if (out.length === VISIT_CHUNK) yield flush()
        }
      } else if (timeout !== undefined) {
        for (const map of base.maps()) {
          for (const entry of map) {
            if (entry.mark === token) continue // received data in this batch
            if (!isIdle(entry, batch, timeout)) break // the rest of this map was seen more recently
            visits.push({ key: entry.key, entry, hadData: false })
            out.push([entry.state, [], true])
            if (out.length === VISIT_CHUNK) yield flush()
          }
        }
      }
      if (out.length > 0) yield flush()
    }
    if (ctx === undefined) {
      throw new SluiceError(
        ErrorCodes.STATE,
        'a Python state update needs the task context the state engine gives',
      )
    }
    await stages.runner.run(spec, items(), ctx, (answers) => {
      const visits = sent.shift()!
      answers.forEach((answer, i) => {
        const { key, entry, hadData } = visits[i]!
        const [state, records] = answer as Answer
        if (records !== null) emitted.push({ count: records[0], data: records[1] })
        if (state === null) {
          if (entry !== undefined) delta.remove(entry)
        } else if (state !== true) {
          delta.put(entry, key, undefined, state, hadData)
        } else if (hadData && timeout !== undefined && entry !== undefined) {
          // Unchanged, but data restarts the key's idle time.
          delta.put(entry, key, undefined, entry.state, true)
        }
      })
    })
    return { delta, emitted }
  }
}
