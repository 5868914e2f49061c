import { functionArgument } from '../../core/options.ts'
import { DerivedDStream, type DStream, MapWithStateDStream } from '../dstream.ts'
import { StateEngine } from './state-engine.ts'
import {
  resolveStateSpec,
  resolveUpdateStateSettings,
  type StateSpec,
  type UpdateStateOptions,
} from './state-spec.ts'
import { mapWithStateUpdater, type UpdateFunction, updateByKeyUpdater } from './state-update.ts'

/** `updateStateByKey(fn, options)`: every key with its state after each batch. */
export function updateStateByKeyStream<K, V, S>(
  parent: DStream<[K, V]>,
  fn: UpdateFunction<V, S>,
  options: UpdateStateOptions<K, S> = {},
): DStream<[K, S]> {
  const update = functionArgument<UpdateFunction<V, S>>('fn', fn)
  const settings = resolveUpdateStateSettings<K, S>(parent.context, options)
  const engine = new StateEngine<K, V, S, never>({
    parent,
    settings,
    updater: updateByKeyUpdater(update, settings.keySerializer),
  })
  return new DerivedDStream<[K, S]>(parent.context, {
    parents: [parent],
    compute: (batch) => engine.snapshotRdd(batch),
    hooks: engine.hooks,
  })
}

/** `mapWithState(spec)`: what the function emitted in each batch; `stateSnapshots()` for the state. */
export function mapWithStateStream<K, V, S, U>(
  parent: DStream<[K, V]>,
  spec: StateSpec<K, V, S, U>,
): MapWithStateDStream<K, S, U> {
  const { fn, settings } = resolveStateSpec(parent.context, spec)
  const engine = new StateEngine<K, V, S, U>({
    parent,
    settings,
    updater: mapWithStateUpdater(fn, settings.keySerializer, settings.timeout),
  })
  const snapshots = new DerivedDStream<[K, S]>(parent.context, {
    parents: [parent],
    compute: (batch) => engine.snapshotRdd(batch),
    hooks: engine.hooks,
  })
  return new MapWithStateDStream<K, S, U>(
    parent.context,
    {
      parents: [parent],
      compute: (batch) => engine.outputRdd(batch),
      hooks: engine.hooks,
      forgetBefore: (batchId) => engine.forgetEmittedBefore(batchId),
    },
    snapshots,
  )
}
