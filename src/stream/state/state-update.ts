import type { Chunks } from '../../rdd/chunks.ts'
import { type KeySerializer, serializedKeyOf } from '../../rdd/key-serializer.ts'
import type { TaskContext } from '../../rdd/task-context.ts'
import type { BatchRef } from '../batch.ts'
import { type State, StateImpl } from './state.ts'
import { PartitionDelta, type StateEntry, type StatePartition } from './state-partition.ts'
import type { StateTimeout } from './state-spec.ts'

/** What one task computes for its partition of a batch: the state changes and the records emitted. */
export interface PartitionResult<K, S, U> {
  readonly delta: PartitionDelta<K, S>
  readonly emitted: U[]
}

/**
 * Computes one partition of a batch: `grouped` holds the batch's values per key (only keys
 * that hash to this partition), `base` the partition's state after the previous batch, which
 * must not be changed. `token` is unique to the task attempt; `ctx` is the task's (the state
 * engine always gives it: updaters that run work elsewhere need its abort signal).
 */
export type PartitionUpdater<K, V, S, U> = (
  base: StatePartition<K, S>,
  grouped: Chunks<[K, V[]]>,
  batch: BatchRef,
  token: number,
  ctx?: TaskContext,
) => Promise<PartitionResult<K, S, U>>

/** `updateStateByKey`'s function: the key's new values (possibly none) and state → new state, or undefined to remove the key. */
export type UpdateFunction<V, S> = (values: V[], state: S | undefined) => S | undefined

/** `mapWithState`'s function: called once per record (`value`), and once with undefined when the key times out. */
export type MappingFunction<K, V, S, U> = (key: K, value: V | undefined, state: State<S>) => U | undefined

/**
 * `updateStateByKey` on one partition, as Spark does it: the function runs for every key
 * that received values and for every other key that has state (with no values), so it can
 * age or drop keys — which makes a batch cost proportional to all keys, not to the batch.
 */
export function updateByKeyUpdater<K, V, S>(
  fn: UpdateFunction<V, S>,
  keySerializer: KeySerializer<K>,
): PartitionUpdater<K, V, S, never> {
  return async (base, grouped, _batch, token) => {
    const delta = new PartitionDelta<K, S>()
    for await (const chunk of grouped) {
      for (let i = 0; i < chunk.length; i++) {
        const [key, values] = chunk[i]!
        const serialized = serializedKeyOf(key, keySerializer)
        const entry = base.get(key, serialized)
        if (entry !== undefined) entry.mark = token
        const next = fn(values, entry?.state)
        if (next !== undefined) delta.put(entry, key, serialized, next, true)
        else if (entry !== undefined) delta.remove(entry)
      }
    }
    for (const entry of base.entries()) {
      if (entry.mark === token) continue
      const next = fn([], entry.state)
      if (next === undefined) delta.remove(entry)
      else if (next !== entry.state) delta.put(entry, entry.key, entry.serialized, next, false)
    }
    return { delta, emitted: [] }
  }
}

/** Whether a key that received no data since `entry.seenBatch` is idle for longer than the timeout. */
export function isIdle(entry: StateEntry<unknown, unknown>, batch: BatchRef, timeout: StateTimeout): boolean {
  return 'batches' in timeout
    ? batch.id - entry.seenBatch > timeout.batches
    : batch.time - entry.seenTime > timeout.ms
}

/**
 * `mapWithState` on one partition, as Spark does it: the function runs once per record, in
 * the batch's order, seeing the state the previous record of the key left; then, with a
 * timeout, once for each key idle for longer than the timeout (value undefined,
 * `isTimingOut()` true), after which the key is removed. Keys without data or timeout are
 * not visited, so a batch costs what its records and timed-out keys cost.
 */
export function mapWithStateUpdater<K, V, S, U>(
  fn: MappingFunction<K, V, S, U>,
  keySerializer: KeySerializer<K>,
  timeout: StateTimeout | undefined,
): PartitionUpdater<K, V, S, U> {
  return async (base, grouped, batch, token) => {
    const delta = new PartitionDelta<K, S>()
    const emitted: U[] = []
    for await (const chunk of grouped) {
      for (let i = 0; i < chunk.length; i++) {
        const [key, values] = chunk[i]!
        const serialized = serializedKeyOf(key, keySerializer)
        const entry = base.get(key, serialized)
        if (entry !== undefined) entry.mark = token
        let exists = entry !== undefined
        let current = entry?.state
        let changed = false
        for (let j = 0; j < values.length; j++) {
          const state = new StateImpl<S>(exists, current)
          const out = fn(key, values[j], state)
          if (out !== undefined) emitted.push(out)
          if (state.removed || state.updated) {
            exists = state.exists()
            current = state.getOption()
            changed = true
          }
        }
        if (!exists) {
          if (entry !== undefined) delta.remove(entry)
        } else if (changed || timeout !== undefined) {
          // With a timeout, data restarts the key's idle time even when the state is unchanged.
          delta.put(entry, key, serialized, current as S, true)
        }
      }
    }
    if (timeout !== undefined) {
      for (const map of base.maps()) {
        for (const entry of map) {
          if (entry.mark === token) continue // received data in this batch
          if (!isIdle(entry, batch, timeout)) break // the rest of this map was seen more recently
          const out = fn(entry.key, undefined, new StateImpl<S>(true, entry.state, true))
          if (out !== undefined) emitted.push(out)
          delta.remove(entry)
        }
      }
    }
    return { delta, emitted }
  }
}
