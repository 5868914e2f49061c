// Windows and state on a real broker (the crash tests are in state-crash and window-crash).
import assert from 'node:assert/strict'
import { readdir, truncate } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { ErrorCodes, isSluiceError } from '../../src/core/errors.ts'
import { silentLogger } from '../../src/core/logger.ts'
import type { KafkaClient } from '../../src/kafka/client.ts'
import { createDirectStream } from '../../src/source/direct-stream.ts'
import { StreamingContext } from '../../src/stream/streaming-context.ts'
import { bootstrap, createTestTopic, testClient } from '../helpers/kafka.ts'
import { random } from '../helpers/random.ts'
import { recordingLogger } from '../helpers/recording-logger.ts'
import { tempDir } from '../helpers/temp-dir.ts'
import { runThrough, sorted } from './support.ts'

function words(ssc: StreamingContext, topic: string, maxRatePerPartition: number) {
  return createDirectStream<string, string>(ssc, {
    brokers: bootstrap(),
    subscribe: [topic],
    startingOffsets: 'earliest',
    deserializers: { key: 'string', value: 'string' },
    maxRatePerPartition,
  })
}

/** Produces `keys` round-robin over `partitions`; returns the keys by partition and offset. */
async function produceKeys(client: KafkaClient, topic: string, partitions: number, keys: string[]) {
  const byPartition: string[][] = Array.from({ length: partitions }, () => [])
  const records = keys.map((key, i) => {
    byPartition[i % partitions]!.push(key)
    return { topic, partition: i % partitions, key, value: '1' }
  })
  for (let i = 0; i < records.length; i += 5000) await client.produce(records.slice(i, i + 5000))
  return byPartition
}

test('reduceByKeyAndWindow with and without invFn give identical results per batch on the same input', async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions: 3 })
  const next = random(3)
  const byPartition = await produceKeys(
    client,
    topic,
    3,
    Array.from({ length: 6000 }, () => `w${next() % 40}`),
  )
  const ssc = new StreamingContext({ appName: 'kafka-windows', batchInterval: 100, logger: silentLogger })
  const pairs = words(ssc, topic, 2000).map((r): [string, number] => [r.key!, 1]) // 200 per partition per batch
  const plain = new Map<number, [string, number][]>()
  const incremental = new Map<number, [string, number][]>()
  pairs
    .reduceByKeyAndWindow((a, b) => a + b, 400, 200)
    .foreachBatch(async (rdd, batch) => {
      plain.set(batch.id, sorted(await rdd.collect()))
    })
  pairs
    .reduceByKeyAndWindow(
      (a, b) => a + b,
      (a, b) => a - b,
      400,
      200,
      { filter: ([, n]) => n > 0 },
    )
    .foreachBatch(async (rdd, batch) => {
      incremental.set(batch.id, sorted(await rdd.collect()))
    })
  const infos = await runThrough(ssc, 15)

  const emitted = [1, 3, 5, 7, 9, 11, 13, 15]
  assert.deepEqual([...plain.keys()], emitted)
  assert.deepEqual([...incremental.keys()], emitted)
  for (const id of emitted) {
    // What the window must hold: every record in the ranges of batches id-3..id.
    const counts = new Map<string, number>()
    for (const info of infos.filter((i) => i.id >= id - 3 && i.id <= id)) {
      for (const range of info.offsetRanges) {
        for (let o = Number(range.fromOffset); o < Number(range.untilOffset); o++) {
          const key = byPartition[range.partition]![o]!
          counts.set(key, (counts.get(key) ?? 0) + 1)
        }
      }
    }
    assert.deepEqual(plain.get(id), sorted([...counts]), `window at batch ${id}`)
    assert.deepEqual(incremental.get(id), plain.get(id), `incremental window at batch ${id}`)
  }
  assert.equal(
    infos.reduce((n, info) => n + info.records, 0),
    6000,
  )
  assert.ok((plain.get(5)?.length ?? 0) > 0 && plain.get(15)?.length === 0, 'windows fill up, then drain')
})

test('mapWithState timeout: keys idle longer than the timeout are called once with isTimingOut() and removed', async (t) => {
  const client = testClient(t)
  // Ten records per batch (one partition, 100 records/s, 100 ms batches); 'a' in every batch
  // of data, 'b' only in batch 0, 'c' in batches 0 and 4, 'd' in batch 2.
  const batches = [
    ['a', 'b', 'c', 'a', 'a', 'a', 'a', 'a', 'a', 'a'],
    Array(10).fill('a'),
    ['a', 'd', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a'],
    Array(10).fill('a'),
    ['a', 'c', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a'],
    Array(10).fill('a'),
  ]
  // Idle for more than 2 batches (or 250 ms of batch time): timed out 3 batches after the last data.
  const expectedTimeouts = new Map([
    [3, ['timeout b after 1', 'timeout c after 1']],
    [5, ['timeout d after 1']],
    [7, ['timeout c after 1']],
    [8, ['timeout a after 56']],
  ])
  for (const timeout of [{ batches: 2 }, 250]) {
    const topic = await createTestTopic(t, client, { partitions: 1 })
    await produceKeys(client, topic, 1, batches.flat())
    const ssc = new StreamingContext({ appName: 'timeouts', batchInterval: 100, logger: silentLogger })
    const mapped = words(ssc, topic, 100)
      .map((r): [string, number] => [r.key!, 1])
      .mapWithState<string, number, number, string>({
        fn: (key, _value, state) => {
          if (state.isTimingOut()) return `timeout ${key} after ${state.get()}`
          state.update((state.getOption() ?? 0) + 1)
          return undefined
        },
        timeout,
      })
    const emitted = new Map<number, string[]>()
    const keys = new Map<number, string[]>()
    mapped.foreachBatch(async (rdd, batch) => {
      emitted.set(batch.id, (await rdd.collect()).sort())
    })
    mapped.stateSnapshots().foreachBatch(async (rdd, batch) => {
      keys.set(batch.id, (await rdd.keys().collect()).sort())
    })
    await runThrough(ssc, 10)
    for (let id = 0; id <= 10; id++) {
      assert.deepEqual(
        emitted.get(id),
        expectedTimeouts.get(id) ?? [],
        `timeout ${JSON.stringify(timeout)}, batch ${id}`,
      )
    }
    assert.deepEqual(keys.get(2), ['a', 'b', 'c', 'd'], "'b' and 'c' are idle, not yet timed out")
    assert.deepEqual(keys.get(3), ['a', 'd'], "'b' and 'c' timed out and were removed")
    assert.deepEqual(keys.get(4), ['a', 'c', 'd'], "'c' is back, as a new key")
    assert.deepEqual(keys.get(8), [])
  }
})

test('a corrupt or truncated state snapshot is detected and the previous one used; with none usable start() refuses', async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions: 2 })
  const dir = tempDir(t)
  const next = random(5)
  const produced: string[] = []
  const produce = async (count: number) => {
    const keys = Array.from({ length: count }, () => `k${next() % 50}`)
    produced.push(...keys)
    await produceKeys(client, topic, 2, keys)
  }
  const job = () => {
    const { logger, entries: logs } = recordingLogger()
    const ssc = new StreamingContext({
      appName: 'kafka-state',
      batchInterval: 50,
      checkpoint: dir,
      checkpointRetain: 1,
      logger,
    })
    const totals = new Map<number, [string, number][]>()
    words(ssc, topic, 2000) // 100 records per partition per batch
      .map((r): [string, number] => [r.key!, 1])
      .updateStateByKey<string, number, number>((values, state) => (state ?? 0) + values.length, {
        name: 'totals',
        checkpointInterval: 2,
      })
      .foreachBatch(async (rdd, batch) => {
        totals.set(batch.id, sorted(await rdd.collect()))
      })
    return { ssc, totals, logs }
  }
  const expected = () => {
    const counts = new Map<string, number>()
    for (const key of produced) counts.set(key, (counts.get(key) ?? 0) + 1)
    return sorted([...counts])
  }
  const stateDir = join(dir, 'state', 'totals')

  await produce(2000) // batches 0-9
  const first = job()
  await runThrough(first.ssc, 11)
  assert.deepEqual(first.totals.get(11), expected())
  assert.deepEqual(await readdir(stateDir), ['11', '9'])

  await truncate(join(stateDir, '11'), 100)
  await produce(1000) // batches 12-16
  const second = job()
  await runThrough(second.ssc, 20)
  assert.deepEqual(second.totals.get(20), expected())
  const warning = second.logs.find(
    (e) => e.msg === 'ignoring an unusable state snapshot; trying the one before it',
  )
  assert.equal(warning?.batchId, 11)
  assert.equal(second.logs.find((e) => e.msg === 'loaded a state snapshot')?.batchId, 9)

  const snapshots = (await readdir(stateDir)).sort()
  assert.deepEqual(snapshots, ['17', '19'])
  for (const name of snapshots) await truncate(join(stateDir, name), 0)
  const third = job()
  await assert.rejects(third.ssc.start(), (error) => {
    assert.ok(isSluiceError(error, ErrorCodes.STATE))
    assert.match(
      error.message,
      /^cannot recover the state of stream 'totals' after batch 20: no snapshot in '.*' is usable: /,
    )
    assert.match(
      error.message,
      /the offset log no longer starts at batch 0, so the state cannot be recomputed/,
    )
    assert.match(
      error.message,
      /Restore '.*\/state\/totals' from a backup, or delete '.*' to start the whole stream over/,
    )
    return true
  })
})
