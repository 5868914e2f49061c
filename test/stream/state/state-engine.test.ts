import assert from 'node:assert/strict'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { ErrorCodes, isSluiceError } from '../../../src/core/errors.ts'
import { parallelize } from '../../../src/rdd/parallelize.ts'
import type { Rdd } from '../../../src/rdd/rdd.ts'
import type { BatchInfo } from '../../../src/stream/batch.ts'
import { ENTRY_OVERHEAD } from '../../../src/stream/state/size-estimate.ts'
import { tempDir } from '../../helpers/temp-dir.ts'
import { runThrough, sorted } from '../support.ts'
import { context, recordsOfBatch, syntheticInput, totalsAfter } from './fixtures.ts'

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0)

test('updateStateByKey gives every key its running total after each batch; BatchInfo counts the keys', async () => {
  const ssc = context()
  const outputs = new Map<number, [string, number][]>()
  syntheticInput(ssc)
    .updateStateByKey<string, number, number>((values, state) => (state ?? 0) + sum(values))
    .foreachBatch(async (rdd, batch) => {
      outputs.set(batch.id, sorted(await rdd.collect()))
    })
  const infos = await runThrough(ssc, 12)
  for (let id = 0; id <= 12; id++)
    assert.deepEqual(outputs.get(id), totalsAfter(id), `state after batch ${id}`)
  for (const info of infos) {
    assert.equal(info.stateKeys, totalsAfter(info.id).length)
    const perKey = info.stateBytes / info.stateKeys
    assert.ok(perKey >= ENTRY_OVERHEAD && perKey < 400, `about ${perKey} bytes per key`)
  }
})

test('updateStateByKey removes a key when its function returns undefined, and starts from initialState', async () => {
  const ssc = context()
  const outputs = new Map<number, [string, number][]>()
  const initial: [string, number][] = [
    ['k0', 1000],
    ['only-initial', 1],
    ['k0', 5], // a key given twice keeps its last state
  ]
  syntheticInput(ssc)
    .updateStateByKey<string, number, number>(
      (values, state) => {
        const total = (state ?? 0) + sum(values)
        return total > 150 ? undefined : total
      },
      { initialState: initial, numPartitions: 3 },
    )
    .foreachBatch(async (rdd, batch) => {
      outputs.set(batch.id, sorted(await rdd.collect()))
    })
  await runThrough(ssc, 11)
  // Replays the same rule: a key is dropped once its total passes 150, and starts again from 0.
  const totals = new Map<string, number>([
    ['k0', 5],
    ['only-initial', 1],
  ])
  for (let id = 0; id <= 11; id++) {
    const values = new Map<string, number[]>()
    for (const [key, value] of recordsOfBatch(id)) values.set(key, [...(values.get(key) ?? []), value])
    for (const key of new Set([...totals.keys(), ...values.keys()])) {
      const total = (totals.get(key) ?? 0) + sum(values.get(key) ?? [])
      if (total > 150) totals.delete(key)
      else totals.set(key, total)
    }
    assert.deepEqual(outputs.get(id), sorted([...totals]), `state after batch ${id}`)
  }
})

test('initialState may be an RDD, read once at batch 0', async () => {
  const ssc = context()
  const initial: Rdd<[string, number]> = parallelize(
    [
      ['k1', 100],
      ['x', 7],
    ],
    2,
  )
  const outputs = new Map<number, [string, number][]>()
  syntheticInput(ssc)
    .updateStateByKey<string, number, number>((values, state) => (state ?? 0) + sum(values), {
      initialState: initial,
    })
    .foreachBatch(async (rdd, batch) => {
      outputs.set(batch.id, sorted(await rdd.collect()))
    })
  await runThrough(ssc, 3)
  for (let id = 0; id <= 3; id++) {
    assert.deepEqual(
      outputs.get(id),
      totalsAfter(id, [
        ['k1', 100],
        ['x', 7],
      ]),
    )
  }
})

test('mapWithState emits per record and times out idle keys once, at the same batch in batches or ms', async () => {
  for (const timeout of [{ batches: 3 }, 30]) {
    const ssc = context()
    const emitted = new Map<number, string[]>()
    const snapshots = new Map<number, [string, number][]>()
    const mapped = syntheticInput(ssc).mapWithState<string, number, number, string>({
      fn: (key, value, state) => {
        if (state.isTimingOut()) return `timeout ${key}=${state.get()}`
        const total = (state.getOption() ?? 0) + value!
        state.update(total)
        return value! % 10 === 0 ? `${key}=${total}` : undefined
      },
      timeout,
    })
    mapped.foreachBatch(async (rdd, batch) => {
      emitted.set(batch.id, (await rdd.collect()).sort())
    })
    mapped.stateSnapshots().foreachBatch(async (rdd, batch) => {
      snapshots.set(batch.id, sorted(await rdd.collect()))
    })
    await runThrough(ssc, 16)

    const lastSeen = new Map<string, number>()
    for (let id = 0; id <= 9; id++) for (const [key] of recordsOfBatch(id)) lastSeen.set(key, id)
    const totals = new Map<string, number>()
    for (let id = 0; id <= 16; id++) {
      const expected: string[] = []
      for (const [key, value] of recordsOfBatch(id)) {
        totals.set(key, (totals.get(key) ?? 0) + value)
        if (value % 10 === 0) expected.push(`${key}=${totals.get(key)}`)
      }
      for (const [key, seen] of lastSeen) {
        // Idle for more than 3 batches: timed out in batch seen + 4, exactly once.
        if (id === seen + 4) {
          expected.push(`timeout ${key}=${totals.get(key)}`)
          totals.delete(key)
        }
      }
      assert.deepEqual(emitted.get(id), expected.sort(), `timeout ${JSON.stringify(timeout)}: batch ${id}`)
      assert.deepEqual(snapshots.get(id), sorted([...totals]), `state after batch ${id}`)
    }
    assert.deepEqual(snapshots.get(16), [], 'every key timed out')
  }
})

test('a state RDD read after its batch is refused: the stream keeps only the newest state', async () => {
  const ssc = context()
  let stashed: Rdd<[string, number]> | undefined
  let failure: unknown
  syntheticInput(ssc)
    .updateStateByKey<string, number, number>((values, state) => (state ?? 0) + sum(values))
    .foreachBatch(async (rdd, batch) => {
      if (batch.id === 1) stashed = rdd
      if (batch.id === 3) failure = await stashed!.collect().catch((error: unknown) => error)
    })
  await runThrough(ssc, 3)
  assert.ok(isSluiceError(failure, ErrorCodes.TASK_FAILED))
  const cause = (failure as Error).cause
  assert.ok(isSluiceError(cause, ErrorCodes.INVALID_ARGUMENT), 'misuse: failed at once, not retried')
  assert.match(
    cause.message,
    /^state stream 'state-0' no longer holds the state after batch 1 \(it holds the state after batch 3\)/,
  )
})

test('stateful options are checked when the operation is declared, naming the option', () => {
  const ssc = context()
  const pairs = syntheticInput(ssc)
  const update = (values: number[], state: number | undefined) => (state ?? 0) + values.length
  const cases: [() => unknown, string][] = [
    [() => pairs.updateStateByKey(3 as never), "option 'fn' must be a function, got a number (3)"],
    [
      () => pairs.updateStateByKey(update, { numPartitions: 0 }),
      "updateStateByKey: option 'numPartitions' must be at least 1, got 0",
    ],
    [
      () => pairs.updateStateByKey(update, { checkpointInterval: 1.5 }),
      "updateStateByKey: option 'checkpointInterval' must be an integer, got a number (1.5)",
    ],
    [
      () => pairs.updateStateByKey(update, { name: 'a/b' }),
      "updateStateByKey: option 'name' must be 1 to 100 letters, digits, '.', '_' or '-', not starting with '.', got \"a/b\"",
    ],
    [
      () => pairs.updateStateByKey(update, { initialState: [['k', 1, 2]] as never }),
      "updateStateByKey: option 'initialState[0]' must be a [key, state] pair, got an array (length 3)",
    ],
    [
      () => pairs.updateStateByKey(update, { initialState: 5 as never }),
      "updateStateByKey: option 'initialState' must be an iterable of [key, state] pairs or an Rdd, got a number (5)",
    ],
    [
      () => pairs.updateStateByKey(update, { stateCodec: { encode: (v: number) => v } as never }),
      "updateStateByKey: option 'stateCodec' must have encode and decode functions",
    ],
    [
      () => pairs.updateStateByKey(update, { timeout: 5 } as never),
      "option 'timeout' is not an option of updateStateByKey: return undefined from its function to remove a key, or use mapWithState",
    ],
    [() => pairs.mapWithState(undefined as never), 'mapWithState: options must be an object, got undefined'],
    [
      () => pairs.mapWithState({ fn: () => 1, timeout: -1 }),
      "mapWithState: option 'timeout' must be greater than 0 (milliseconds), got -1",
    ],
    [
      () => pairs.mapWithState({ fn: () => 1, timeout: { batches: 0 } }),
      "mapWithState: option 'timeout.batches' must be at least 1, got 0",
    ],
    [
      () => pairs.mapWithState({ fn: () => 1, timeout: { batch: 2 } } as never),
      "mapWithState: unknown option 'timeout.batch' — did you mean 'timeout.batches'?",
    ],
    [
      () => pairs.updateStateByKey(update, { checkpointIntervall: 2 } as never),
      "updateStateByKey: unknown option 'checkpointIntervall' — did you mean 'checkpointInterval'?",
    ],
  ]
  for (const [define, message] of cases) {
    assert.throws(
      define,
      (error) => isSluiceError(error, ErrorCodes.INVALID_OPTION) && error.message === message,
      message,
    )
  }
  pairs.updateStateByKey(update, { name: 'totals' })
  assert.throws(
    () => pairs.mapWithState({ fn: () => 1, name: 'totals' }),
    /option 'name' 'totals' is already the name of another stateful stream of this context/,
  )
})

test('a state that plain JSON cannot hold stops the stream at its first snapshot, saying which codec to give', async (t) => {
  const dir = tempDir(t)
  const ssc = context({ checkpoint: dir })
  syntheticInput(ssc)
    .updateStateByKey<string, number, bigint>((values, state) => (state ?? 0n) + BigInt(sum(values)), {
      name: 'big',
      checkpointInterval: 2,
    })
    .foreachBatch(async (rdd) => {
      await rdd.count()
    })
  const infos: BatchInfo[] = []
  ssc.addListener({ onBatchCompleted: (info) => infos.push(info) })
  await ssc.start()
  await assert.rejects(ssc.awaitTermination(), (error) => {
    assert.ok(isSluiceError(error, ErrorCodes.STATE))
    assert.match(
      error.message,
      /^state stream 'big' cannot snapshot the state of key "k\d+": state is a bigint, which plain JSON cannot hold; give the stateful operation a stateCodec that encodes it as JSON$/,
    )
    return true
  })
  // Batch 1 is in the commit log (its outputs ran), its snapshot is not on disk, and no
  // listener heard of it.
  assert.deepEqual((await readdir(join(dir, 'commits'))).sort(), ['0', '1'], 'batches 0 and 1 committed')
  assert.deepEqual(await readdir(join(dir, 'state', 'big')), [], 'no snapshot, not even a temp file')
  assert.deepEqual(
    infos.map((i) => i.id),
    [0],
    'batch 1 committed, then its snapshot failed: no BatchInfo for it',
  )
})
