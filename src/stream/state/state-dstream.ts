import { functionArgument } from '../../core/options.ts'
import { DerivedDStream, type DStream, MapWithStateDStream } from '../dstream.ts'
import { StateEngine } from './state-engine.ts'
import {
  resolveStateSpec,
  resolveUpdateStateSettings,
  type StateSettings,
  type StateSpec,
  type UpdateStateOptions,
} from './state-spec.ts'
import {
  mapWithStateUpdater,
  type PartitionUpdater,
  type UpdateFunction,
  updateByKeyUpdater,
} from './state-update.ts'

/** What a stateful stream is built from: its parent, its checked settings and how it updates a partition. */
export interface StatefulStreamInit<K, V, S, U> {
  readonly parent: DStream<[K, V]>
  readonly settings: StateSettings<K, S>
  readonly updater: PartitionUpdater<K, V, S, U>
}

/**
 * The two streams of one stateful stream: every key with its state after each batch, and
 * what the update emitted in each batch (mapWithState's records; nothing for
 * updateStateByKey). Both read the same state engine, which computes each batch once.
 *
 * The seam for key-value runtimes other than TypeScript functions (the Python API runs its
 * updates in worker processes): they give their own PartitionUpdater and reuse everything
 * else — per-key state, snapshots in the checkpoint, recovery, timeouts, initial state.
 */
export function statefulStreams<K, V, S, U>(
  init: StatefulStreamInit<K, V, S, U>,
): { readonly snapshots: DStream<[K, S]>; readonly emitted: MapWithStateDStream<K, S, U> } {
  const { parent } = init
  const engine = new StateEngine<K, V, S, U>(init)
  const snapshots = new DerivedDStream<[K, S]>(parent.context, {
    parents: [parent],
    compute: (batch) => engine.snapshotRdd(batch),
    hooks: engine.hooks,
  })
  const emitted = new MapWithStateDStream<K, S, U>(
    parent.context,
    {
      parents: [parent],
      compute: (batch) => engine.outputRdd(batch),
      hooks: engine.hooks,
      forgetBefore: (batchId) => engine.forgetEmittedBefore(batchId),
    },
    snapshots,
  )
  return { snapshots, emitted }
}

/** `updateStateByKey(fn, options)`: every key with its state after each batch. */
export function updateStateByKeyStream<K, V, S>(
  parent: DStream<[K, V]>,
  fn: UpdateFunction<V, S>,
  options: UpdateStateOptions<K, S> = {},
): DStream<[K, S]> {
  const update = functionArgument<UpdateFunction<V, S>>('fn', fn)
  const settings = resolveUpdateStateSettings<K, S>(parent.context, options)
  return statefulStreams<K, V, S, never>({
    parent,
    settings,
    updater: updateByKeyUpdater(update, settings.keySerializer),
  }).snapshots
}

/** `mapWithState(spec)`: what the function emitted in each batch; `stateSnapshots()` for the state. */
export function mapWithStateStream<K, V, S, U>(
  parent: DStream<[K, V]>,
  spec: StateSpec<K, V, S, U>,
): MapWithStateDStream<K, S, U> {
  const { fn, settings } = resolveStateSpec(parent.context, spec)
  return statefulStreams<K, V, S, U>({
    parent,
    settings,
    updater: mapWithStateUpdater(fn, settings.keySerializer, settings.timeout),
  }).emitted
}
