import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes, isSluiceError } from '../../../src/core/errors.ts'
import { defaultKeySerializer } from '../../../src/rdd/key-serializer.ts'
import type { BatchRef } from '../../../src/stream/batch.ts'
import type { State } from '../../../src/stream/state/state.ts'
import { applyDelta, StatePartition } from '../../../src/stream/state/state-partition.ts'
import { mapWithStateUpdater, updateByKeyUpdater } from '../../../src/stream/state/state-update.ts'

async function* chunks<T>(...parts: T[][]): AsyncGenerator<readonly T[]> {
  for (const part of parts) yield part
}

function partitionOf<K, S>(entries: [K, S, number?][]): StatePartition<K, S> {
  const partition = new StatePartition<K, S>()
  for (const [key, state, seen = 0] of entries) {
    const serialized = typeof key === 'object' ? defaultKeySerializer(key) : undefined
    partition.put({ key, serialized, state, seenBatch: seen, seenTime: 1000 * seen, mark: 0 })
  }
  return partition
}

function contents<K, S>(partition: StatePartition<K, S>): [K, S, number][] {
  return [...partition.entries()].map((e) => [e.key, e.state, e.seenBatch])
}

const batch = (id: number): BatchRef => ({ id, time: 1000 * id })
let token = 1000

test('updateStateByKey calls the function for keys with values and for every other key with state', async () => {
  const base = partitionOf<string, number>([
    ['a', 1],
    ['b', 2],
    ['gone', 3],
  ])
  const calls: [number[], number | undefined][] = []
  const update = updateByKeyUpdater<string, number, number>((values, state) => {
    calls.push([values, state])
    if (state === 3) return undefined // drop 'gone'
    return values.length === 0 ? state : (state ?? 0) + values.reduce((x, y) => x + y, 0)
  }, defaultKeySerializer)
  const { delta, emitted } = await update(base, chunks([['a', [10, 20]]], [['new', [5]]]), batch(4), token++)
  assert.deepEqual(emitted, [])
  assert.deepEqual(calls, [
    [[10, 20], 1],
    [[5], undefined],
    [[], 2],
    [[], 3],
  ])
  assert.deepEqual(
    contents(base),
    [
      ['a', 1, 0],
      ['b', 2, 0],
      ['gone', 3, 0],
    ],
    'computing a batch leaves the state untouched',
  )
  assert.equal(delta.size, 3, "'b' kept its state: no change recorded")
  applyDelta(base, delta, { batchId: 4, batchTime: 4000, reorder: false })
  assert.deepEqual(contents(base), [
    ['a', 31, 4],
    ['b', 2, 0],
    ['new', 5, 4],
  ])
})

test('a retried task attempt computes the same changes: marks of a failed attempt do not leak', async () => {
  const base = partitionOf<string, number>([
    ['a', 1],
    ['b', 2],
  ])
  const update = updateByKeyUpdater<string, number, number>(
    (values, state) => (state ?? 0) + values.length,
    defaultKeySerializer,
  )
  const failing = async function* () {
    yield [['a', [1]]] as [string, number[]][]
    throw new Error('fetch failed')
  }
  await assert.rejects(update(base, failing(), batch(1), token++), /fetch failed/)
  const { delta } = await update(base, chunks([['a', [1]]]), batch(1), token++)
  applyDelta(base, delta, { batchId: 1, batchTime: 1000, reorder: false })
  assert.deepEqual(contents(base), [
    ['a', 2, 1],
    ['b', 2, 0],
  ])
})

test('mapWithState calls once per record, in order, each call seeing the state the previous one left', async () => {
  const base = partitionOf<string, number>([['a', 100]])
  const seen: string[] = []
  const update = mapWithStateUpdater<string, number, number, string>(
    (key, value, state: State<number>) => {
      seen.push(`${key}:${value}:${state.getOption()}`)
      if (value === 0) {
        state.remove()
        return `${key} removed`
      }
      state.update((state.getOption() ?? 0) + value!)
      return `${key}=${state.get()}`
    },
    defaultKeySerializer,
    undefined,
  )
  const { delta, emitted } = await update(
    base,
    chunks([
      ['a', [1, 0, 5]],
      ['b', [2, 3]],
      ['c', [0]],
    ]),
    batch(2),
    token++,
  )
  assert.deepEqual(seen, ['a:1:100', 'a:0:101', 'a:5:undefined', 'b:2:undefined', 'b:3:2', 'c:0:undefined'])
  assert.deepEqual(emitted, ['a=101', 'a removed', 'a=5', 'b=2', 'b=5', 'c removed'])
  applyDelta(base, delta, { batchId: 2, batchTime: 2000, reorder: false })
  assert.deepEqual(contents(base), [
    ['a', 5, 2],
    ['b', 5, 2],
  ])
})

test('mapWithState timeouts: keys idle longer than the timeout get one call with isTimingOut() and are removed', async () => {
  // Batch 5; timeout { batches: 2 }: idle since batch ≤ 2 times out.
  const base = partitionOf<string, number>([
    ['idle-since-1', 1, 1],
    ['idle-since-2', 2, 2],
    ['data-now', 3, 1],
    ['idle-since-3', 4, 3],
  ])
  const calls: string[] = []
  const update = mapWithStateUpdater<string, number, number, string>(
    (key, value, state) => {
      calls.push(`${key}:${value}:${state.isTimingOut()}`)
      if (state.isTimingOut()) {
        assert.throws(
          () => state.update(9),
          (e) => isSluiceError(e, ErrorCodes.INVALID_ARGUMENT),
        )
        assert.throws(
          () => state.remove(),
          (e) => isSluiceError(e, ErrorCodes.INVALID_ARGUMENT),
        )
        return `timeout ${key} at ${state.get()}`
      }
      return undefined
    },
    defaultKeySerializer,
    { batches: 2 },
  )
  const { delta, emitted } = await update(base, chunks([['data-now', [7]]]), batch(5), token++)
  assert.deepEqual(calls, ['data-now:7:false', 'idle-since-1:undefined:true', 'idle-since-2:undefined:true'])
  assert.deepEqual(emitted, ['timeout idle-since-1 at 1', 'timeout idle-since-2 at 2'])
  applyDelta(base, delta, { batchId: 5, batchTime: 5000, reorder: true })
  assert.deepEqual(
    contents(base),
    [
      ['idle-since-3', 4, 3],
      ['data-now', 3, 5],
    ],
    'data restarts the idle time and moves the key last, though its state did not change',
  )

  const byTime = mapWithStateUpdater<string, number, number, string>(
    (key, _value, state) => (state.isTimingOut() ? key : undefined),
    defaultKeySerializer,
    { ms: 1500 },
  )
  // At batch 5 (time 5000), idle for more than 1500 ms: seen at 3000 (2000 ms) times out, 5000 does not.
  assert.deepEqual((await byTime(base, chunks(), batch(5), token++)).emitted, ['idle-since-3'])
})

test('State refuses misuse with SLUICE_INVALID_ARGUMENT', async () => {
  const run = async (fn: (state: State<number>) => void) => {
    const update = mapWithStateUpdater<string, number, number, void>(
      (_key, _value, state) => fn(state),
      defaultKeySerializer,
      undefined,
    )
    return update(new StatePartition(), chunks([['k', [1]]]), batch(0), token++)
  }
  const refused = (message: RegExp) => (error: unknown) =>
    isSluiceError(error, ErrorCodes.INVALID_ARGUMENT) && message.test(error.message)
  await assert.rejects(
    run((s) => s.get()),
    refused(/^State.get\(\): the key has no state/),
  )
  await assert.rejects(
    run((s) => {
      s.remove()
      s.remove()
    }),
    refused(/^State.remove\(\): the state was already removed/),
  )
  await assert.rejects(
    run((s) => s.update(undefined as unknown as number)),
    refused(/cannot be undefined; call remove\(\) instead/),
  )
  await assert.rejects(
    run((s) => {
      s.update(1)
      s.remove()
      s.update(2)
    }),
    refused(/^State.update\(\): the state was removed in this call/),
  )
})

test('object keys compare by value, as in shuffles', async () => {
  const base = partitionOf<{ id: number }, number>([[{ id: 1 }, 10]])
  const update = updateByKeyUpdater<{ id: number }, number, number>(
    (values, state) => (state ?? 0) + values.length,
    defaultKeySerializer,
  )
  const { delta } = await update(base, chunks([[{ id: 1 }, [1, 1]]]), batch(1), token++)
  applyDelta(base, delta, { batchId: 1, batchTime: 1000, reorder: false })
  assert.deepEqual(contents(base), [[{ id: 1 }, 12, 1]])
})
