import assert from 'node:assert/strict'
import { readdir, readFile, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { StateSnapshotStore } from '../../../src/checkpoint/state-snapshot-store.ts'
import { ErrorCodes, isSluiceError } from '../../../src/core/errors.ts'
import { silentLogger } from '../../../src/core/logger.ts'
import type { Rdd } from '../../../src/rdd/rdd.ts'
import type { Batch } from '../../../src/stream/batch.ts'
import type { StreamingContext } from '../../../src/stream/streaming-context.ts'
import { type LogEntry, recordingLogger } from '../../helpers/recording-logger.ts'
import { tempDir } from '../../helpers/temp-dir.ts'
import { runThrough, sorted } from '../support.ts'
import { context, recordsOfBatch, syntheticInput, totalsAfter } from './fixtures.ts'

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0)

/** One call of an output operation: the batch, whether it was a replay, what the output saw. */
interface OutputCall<V> {
  readonly id: number
  readonly replay: boolean
  value?: V
}

/** Output calls as `<batch id>`, with `r` for a replay, in the order they were made. */
const callIds = (calls: readonly OutputCall<unknown>[]) => calls.map((c) => `${c.id}${c.replay ? 'r' : ''}`)

/** `<from>` … `<to>`: the call ids of batches run once each, none a replay. */
const firstRuns = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => String(from + i))

interface Run {
  readonly ssc: StreamingContext
  /** Every call of the state's output operation, in order. */
  readonly outputs: OutputCall<[string, number][]>[]
  readonly logs: LogEntry[]
}

/** The running-totals job on `dir`, snapshotting every 3 batches (after 2, 5, 8, 11...). */
function totalsJob(dir: string, options: { retain?: number; name?: string } = {}): Run {
  const { logger, entries: logs } = recordingLogger()
  const ssc = context({ checkpoint: dir, checkpointRetain: options.retain ?? 1, logger })
  const outputs: OutputCall<[string, number][]>[] = []
  syntheticInput(ssc)
    .updateStateByKey<string, number, number>((values, state) => (state ?? 0) + sum(values), {
      name: options.name ?? 'totals',
      checkpointInterval: 3,
    })
    .foreachBatch(async (rdd, batch) => {
      const call: OutputCall<[string, number][]> = { id: batch.id, replay: batch.replay }
      outputs.push(call)
      call.value = sorted(await rdd.collect())
    })
  return { ssc, outputs, logs }
}

/** The run output exactly `calls` (see callIds), each with the totals of the records up to its batch. */
function assertExact(run: Run, calls: readonly string[]): void {
  assert.deepEqual(callIds(run.outputs), calls, 'the output calls, in order')
  for (const { id, value } of run.outputs) assert.deepEqual(value, totalsAfter(id), `state after batch ${id}`)
}

function messages(run: Run, level: string): string[] {
  return run.logs.filter((entry) => entry.level === level).map((entry) => String(entry.msg))
}

const snapshotDir = (dir: string, name = 'totals') => join(dir, 'state', name)

async function snapshotIds(dir: string, name = 'totals'): Promise<number[]> {
  return (await readdir(snapshotDir(dir, name))).map(Number).sort((a, b) => a - b)
}

test('snapshots every checkpointInterval batches; a restart loads the newest and recomputes the rest without outputs', async (t) => {
  const dir = tempDir(t)
  const first = totalsJob(dir)
  await runThrough(first.ssc, 10)
  assertExact(first, firstRuns(0, 10))
  // Snapshots after batches 2, 5, 8: the newest usable one and the one before it are kept.
  assert.deepEqual(await snapshotIds(dir), [5, 8])
  // With retain 1 the offset log is pruned (at batch 10) back to what recovery needs: batch 5 on.
  assert.deepEqual(
    (await readdir(join(dir, 'offsets'))).map(Number).sort((a, b) => a - b),
    [5, 6, 7, 8, 9, 10],
  )

  const second = totalsJob(dir)
  await runThrough(second.ssc, 20)
  assertExact(second, firstRuns(11, 20))
  const loaded = second.logs.find((entry) => entry.msg === 'loaded a state snapshot')
  assert.equal(loaded?.batchId, 8)
  const recomputed = second.logs.find(
    (entry) => entry.msg === 'recomputing committed batches to rebuild state',
  )
  assert.deepEqual([recomputed?.from, recomputed?.to], [9, 10])
  assert.deepEqual(await snapshotIds(dir), [17, 20])
  assert.deepEqual(messages(second, 'warn'), [])
})

test('a forced stop mid-batch: the committed batches after the snapshot are recomputed, then the pending batch re-runs', async (t) => {
  const dir = tempDir(t)
  const first = totalsJob(dir)
  first.ssc.addListener({
    onBatchStarted: (batch) => {
      if (batch.id === 13) void first.ssc.stop({ graceful: false })
    },
  })
  await first.ssc.start()
  await first.ssc.awaitTermination()
  assertExact(first, firstRuns(0, 12))

  const second = totalsJob(dir)
  await runThrough(second.ssc, 15)
  // Batch 12 (committed) is recomputed without its output; batch 13 re-runs, as a replay.
  assertExact(second, ['13r', '14', '15'])
  const recomputed = second.logs.find(
    (entry) => entry.msg === 'recomputing committed batches to rebuild state',
  )
  assert.deepEqual([recomputed?.from, recomputed?.to], [12, 12])
})

test('a truncated or corrupt newest snapshot is detected, reported, and the one before it used', async (t) => {
  for (const damage of ['truncate', 'corrupt'] as const) {
    const dir = tempDir(t)
    await runThrough(totalsJob(dir).ssc, 10)
    const newest = join(snapshotDir(dir), '8')
    if (damage === 'truncate') await truncate(newest, 30)
    else await writeFile(newest, (await readFile(newest, 'utf8')).replace(/,(\d+)\]/, ',9$1]'))

    const second = totalsJob(dir)
    await runThrough(second.ssc, 12)
    assertExact(second, firstRuns(11, 12))
    const warning = second.logs.find(
      (entry) => entry.msg === 'ignoring an unusable state snapshot; trying the one before it',
    )
    assert.equal(warning?.batchId, 8)
    const reason = (warning?.error as { message?: string } | undefined)?.message ?? ''
    assert.match(reason, damage === 'truncate' ? /is truncated|not valid JSON/ : /failed its integrity check/)
    assert.ok(
      messages(second, 'warn').includes(
        'recovered state from an older snapshot because newer ones are unusable',
      ),
    )
    assert.equal(second.logs.find((entry) => entry.msg === 'loaded a state snapshot')?.batchId, 5)
    // Recomputing batch 8 wrote its snapshot again, intact.
    const reread = await (await StateSnapshotStore.open(dir, 'totals', silentLogger)).read(8)
    assert.deepEqual(sorted(reread.entries.map(([k, v]) => [k as string, v as number])), totalsAfter(8))
  }
})

test('with no usable snapshot the state is recomputed from batch 0 while the offset log still starts there', async (t) => {
  const dir = tempDir(t)
  await runThrough(totalsJob(dir, { retain: 100 }).ssc, 9)
  for (const id of await snapshotIds(dir)) await truncate(join(snapshotDir(dir), String(id)), 5)
  const second = totalsJob(dir, { retain: 100 })
  await runThrough(second.ssc, 11)
  assertExact(second, firstRuns(10, 11))
  assert.ok(messages(second, 'warn').includes('no usable state snapshot: recomputing the state from batch 0'))
})

test('with no usable snapshot and the offset log pruned, start() refuses and says why and what to do', async (t) => {
  const dir = tempDir(t)
  await runThrough(totalsJob(dir).ssc, 10)
  for (const id of await snapshotIds(dir)) await truncate(join(snapshotDir(dir), String(id)), 0)
  const second = totalsJob(dir)
  await assert.rejects(second.ssc.start(), (error) => {
    assert.ok(isSluiceError(error, ErrorCodes.STATE))
    assert.equal(
      error.message,
      `cannot recover the state of stream 'totals' after batch 10: no snapshot in '${snapshotDir(dir)}' is usable: ` +
        `state snapshot '${snapshotDir(dir)}/8' is truncated: it does not end with a complete trailer line; ` +
        `state snapshot '${snapshotDir(dir)}/5' is truncated: it does not end with a complete trailer line; ` +
        'and the offset log no longer starts at batch 0, so the state cannot be recomputed from the beginning. ' +
        `Restore '${snapshotDir(dir)}' from a backup, or delete '${dir}' to start the whole stream over (that also forgets its offsets)`,
    )
    return true
  })
  assert.equal(second.ssc.state, 'stopped')

  // A stateful stream that has never written a snapshot here (renamed, or added to the job).
  const renamed = totalsJob(dir, { name: 'totals-v2' })
  await assert.rejects(renamed.ssc.start(), (error) => {
    assert.ok(isSluiceError(error, ErrorCodes.STATE))
    assert.match(
      error.message,
      /'.*\/state\/totals-v2' holds no snapshot \(a stateful stream added to a running job, or renamed\? it needs its old name\)/,
    )
    return true
  })
})

test('snapshots of uncommitted batches or of another run are not loaded', async (t) => {
  const dir = tempDir(t)
  await runThrough(totalsJob(dir).ssc, 10)
  const store = await StateSnapshotStore.open(dir, 'totals', silentLogger)
  // A snapshot of batch 30, which this checkpoint never committed, and one of batch 8 at another time.
  await store.write({ stream: 'totals', batchId: 30, batchTime: 1, keyCodec: 'json', stateCodec: 'json' }, [
    ['k0', 1],
  ])
  await store.write({ stream: 'totals', batchId: 8, batchTime: 1, keyCodec: 'json', stateCodec: 'json' }, [
    ['k0', 1],
  ])
  const second = totalsJob(dir)
  await runThrough(second.ssc, 12)
  assertExact(second, firstRuns(11, 12))
  assert.ok(
    messages(second, 'warn').includes(
      'deleting a state snapshot of a batch that is not committed (left over from another run)',
    ),
  )
  const warning = second.logs.find(
    (entry) => entry.msg === 'ignoring an unusable state snapshot; trying the one before it',
  )
  assert.match(
    (warning?.error as { message?: string } | undefined)?.message ?? '',
    /is of batch 8 at time 1, but the offset log ran batch 8 at \d+/,
  )
  assert.ok(!(await snapshotIds(dir)).includes(30))
})

test('a codec carries non-JSON state through snapshots; a snapshot of another codec is not loaded', async (t) => {
  const dir = tempDir(t)
  const job = (codecName: string) => {
    const { logger, entries: logs } = recordingLogger()
    const ssc = context({ checkpoint: dir, checkpointRetain: 1, logger })
    const outputs: OutputCall<[string, string][]>[] = []
    syntheticInput(ssc)
      .updateStateByKey<string, number, { total: bigint; last: Date }>(
        (values, state) =>
          values.length === 0
            ? state
            : {
                total: (state?.total ?? 0n) + BigInt(sum(values)),
                last: new Date(Date.UTC(2024, 0, 1 + values.length)),
              },
        {
          name: 'rich',
          checkpointInterval: 3,
          stateCodec: {
            name: codecName,
            encode: (s) => ({ total: s.total.toString(), last: s.last.toISOString() }),
            decode: (json) => {
              const { total, last } = json as { total: string; last: string }
              return { total: BigInt(total), last: new Date(last) }
            },
          },
        },
      )
      .foreachBatch(async (rdd, batch) => {
        const call: OutputCall<[string, string][]> = { id: batch.id, replay: batch.replay }
        outputs.push(call)
        const states = await rdd.collect()
        call.value = sorted(states.map(([k, s]) => [k, `${s.total}@${s.last.toISOString().slice(0, 10)}`]))
      })
    return { ssc, outputs, logs }
  }
  /** Per key after batch `id`: its total, and the day that says how many values its latest batch had. */
  const expected = (id: number): [string, string][] => {
    const latest = new Map<string, number>()
    for (let b = 0; b <= id; b++) {
      const perKey = new Map<string, number>()
      for (const [key] of recordsOfBatch(b)) perKey.set(key, (perKey.get(key) ?? 0) + 1)
      for (const [key, n] of perKey) latest.set(key, n)
    }
    return totalsAfter(id).map(([key, total]) => [
      key,
      `${total}@2024-01-${String(1 + latest.get(key)!).padStart(2, '0')}`,
    ])
  }
  const first = job('rich-v1')
  await runThrough(first.ssc, 10)
  const resumed = job('rich-v1')
  await runThrough(resumed.ssc, 14)
  assert.equal(resumed.logs.find((entry) => entry.msg === 'loaded a state snapshot')?.batchId, 8)
  for (const run of [first, resumed]) {
    for (const { id, value } of run.outputs) assert.deepEqual(value, expected(id), `state after batch ${id}`)
  }
  assert.deepEqual(callIds([...first.outputs, ...resumed.outputs]), firstRuns(0, 14))
  const changed = job('rich-v2')
  await assert.rejects(
    changed.ssc.start(),
    /was written with stateCodec 'rich-v1', but the stream now uses 'rich-v2'/,
  )
})

test('a window over mapWithState output is exact after a restart: snapshots are chosen old enough for it', async (t) => {
  const timeoutBatches = 2
  const dir = tempDir(t)
  const calls: OutputCall<[string, number][]>[] = []
  for (const last of [4, 9, 10, 17]) {
    const ssc = context({ checkpoint: dir, checkpointRetain: 1 })
    syntheticInput(ssc)
      .mapWithState<string, number, number, [string, number]>({
        name: 'latest-offsets',
        checkpointInterval: 2,
        timeout: { batches: timeoutBatches },
        // The state is the key's highest offset so far: independent of the order of a batch's records.
        fn: (key, value, state) => {
          if (state.isTimingOut()) return [`timeout:${key}`, state.get()]
          state.update(Math.max(state.getOption() ?? 0, value!))
          return [key, value!]
        },
      })
      .reduceByKeyAndWindow((a, b) => a + b, 40, 20)
      .foreachBatch(async (rdd, batch) => {
        const call: OutputCall<[string, number][]> = { id: batch.id, replay: batch.replay }
        calls.push(call)
        call.value = sorted(await rdd.collect())
      })
    await runThrough(ssc, last)
  }

  // What mapWithState emits per batch, from the records: [key, offset] for every record, and
  // [timeout:key, highest offset] for a key whose last record came more than `timeoutBatches`
  // batches ago (the key is then forgotten).
  const emitted: [string, number][][] = []
  const state = new Map<string, { highest: number; lastBatch: number }>()
  for (let b = 0; b <= 17; b++) {
    const out: [string, number][] = []
    const records = recordsOfBatch(b)
    const keys = new Set(records.map(([key]) => key))
    for (const [key, { highest, lastBatch }] of state) {
      if (!keys.has(key) && b - lastBatch > timeoutBatches) {
        out.push([`timeout:${key}`, highest])
        state.delete(key)
      }
    }
    for (const [key, offset] of records) {
      out.push([key, offset])
      state.set(key, { highest: Math.max(state.get(key)?.highest ?? 0, offset), lastBatch: b })
    }
    emitted.push(out)
  }
  // Windows of 4 batches every 2: at batches 1, 3, …, the sums of what batches b-3…b emitted.
  const expected: OutputCall<[string, number][]>[] = []
  for (let id = 1; id <= 17; id += 2) {
    const sums = new Map<string, number>()
    for (const [key, n] of emitted.slice(Math.max(0, id - 3), id + 1).flat())
      sums.set(key, (sums.get(key) ?? 0) + n)
    expected.push({ id, replay: false, value: sorted([...sums]) })
  }
  assert.deepEqual(calls, expected)
  assert.ok(
    expected.some(({ value }) => value!.some(([key]) => key.startsWith('timeout:'))),
    'keys time out inside the windows compared',
  )
})

test('two stateful streams restored from different snapshots are recomputed together, each from its own', async (t) => {
  const dir = tempDir(t)
  const define = () => {
    const ssc = context({ checkpoint: dir, checkpointRetain: 1 })
    const input = syntheticInput(ssc)
    const totals: OutputCall<[string, number][]>[] = []
    const counts: OutputCall<[string, number][]>[] = []
    const record =
      (calls: OutputCall<[string, number][]>[]) => async (rdd: Rdd<[string, number]>, batch: Batch) => {
        const call: OutputCall<[string, number][]> = { id: batch.id, replay: batch.replay }
        calls.push(call)
        call.value = sorted(await rdd.collect())
      }
    input
      .updateStateByKey<string, number, number>((values, state) => (state ?? 0) + sum(values), {
        name: 'totals',
        checkpointInterval: 3, // snapshots after 2, 5, 8
      })
      .foreachBatch(record(totals))
    input
      .updateStateByKey<string, number, number>((values, state) => (state ?? 0) + values.length, {
        name: 'counts',
        checkpointInterval: 4, // snapshots after 3, 7
      })
      .foreachBatch(record(counts))
    return { ssc, totals, counts }
  }
  await runThrough(define().ssc, 9)
  await truncate(join(snapshotDir(dir), '8'), 10) // totals falls back to 5; counts restores 7
  const second = define()
  await runThrough(second.ssc, 12)
  assert.deepEqual(callIds(second.totals), firstRuns(10, 12))
  assert.deepEqual(callIds(second.counts), firstRuns(10, 12))
  for (const { id, value } of second.totals) assert.deepEqual(value, totalsAfter(id))
  for (const { id, value } of second.counts) {
    const expected = new Map<string, number>()
    for (let b = 0; b <= id; b++)
      for (const [key] of recordsOfBatch(b)) expected.set(key, (expected.get(key) ?? 0) + 1)
    assert.deepEqual(value, sorted([...expected]))
  }
  assert.deepEqual(await snapshotIds(dir, 'counts'), [7, 11])
})
