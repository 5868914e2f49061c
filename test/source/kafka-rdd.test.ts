import assert from 'node:assert/strict'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { ErrorCodes, type SluiceError } from '../../src/core/errors.ts'
import { silentLogger } from '../../src/core/logger.ts'
import { KafkaClient } from '../../src/kafka/client.ts'
import type { FetchEvent } from '../../src/kafka/diagnostics.ts'
import { OffsetRange } from '../../src/kafka/offset-range.ts'
import type { FetchRequest, FetchResult } from '../../src/kafka/types.ts'
import { createRDD } from '../../src/source/create-rdd.ts'
import { bootstrap, createTestTopic, testClient } from '../helpers/kafka.ts'
import { produceTransaction } from '../helpers/transactions.ts'

const strings = { key: 'string', value: 'string' } as const

/** Records every fetch request the client sends while `fn` runs. */
async function countingFetches<T>(fn: () => Promise<T>): Promise<{ result: T; fetches: FetchEvent[] }> {
  const fetches: FetchEvent[] = []
  const onFetch = (event: unknown) => fetches.push(event as FetchEvent)
  subscribe('sluice:kafka:fetch', onFetch)
  try {
    return { result: await fn(), fetches }
  } finally {
    unsubscribe('sluice:kafka:fetch', onFetch)
  }
}

async function waitForLastStableOffset(
  client: KafkaClient,
  topic: string,
  partition: number,
  offset: bigint,
) {
  const deadline = Date.now() + 30_000
  while ((await client.listOffsets([{ topic, partition }], 'lastStable'))[0]!.offset < offset) {
    if (Date.now() > deadline)
      throw new Error(`the last stable offset of ${topic}-${partition} never reached ${offset}`)
    await sleep(50)
  }
}

async function produceValues(client: KafkaClient, topic: string, partition: number, values: string[]) {
  await client.produce(values.map((value, i) => ({ topic, partition, key: `k${i}`, value })))
}

test('empty ranges read nothing: an empty partition and from == until in the middle', async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions: 2 })
  await produceValues(client, topic, 0, ['a', 'b', 'c', 'd'])
  const rdd = createRDD({ client, deserializers: strings }, [
    OffsetRange.create(topic, 0, 2n, 2n),
    OffsetRange.create(topic, 1, 0n, 0n),
  ])
  const { result, fetches } = await countingFetches(() => rdd.collect())
  assert.deepEqual(result, [])
  assert.equal(fetches.length, 0)
  assert.equal(await rdd.count(), 0)
  assert.equal(await rdd.isEmpty(), true)
})

test('ranges starting and ending in the middle of record batches return exactly [from, until)', async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client)
  // Three sends: three record batches, offsets 0-9, 10-19, 20-29.
  for (let b = 0; b < 3; b++) {
    await produceValues(
      client,
      topic,
      0,
      Array.from({ length: 10 }, (_, i) => `v${b * 10 + i}`),
    )
  }
  const read = async (from: bigint, until: bigint) =>
    (
      await createRDD({ client, deserializers: strings }, [
        OffsetRange.create(topic, 0, from, until),
      ]).collect()
    ).map((r) => [r.offset, r.value])
  const expected = (from: number, until: number) =>
    Array.from({ length: until - from }, (_, i) => [BigInt(from + i), `v${from + i}`])
  assert.deepEqual(await read(3n, 7n), expected(3, 7))
  assert.deepEqual(await read(7n, 23n), expected(7, 23))
  assert.deepEqual(await read(10n, 20n), expected(10, 20))
  assert.deepEqual(await read(29n, 30n), expected(29, 30))
  // One tiny fetch at a time still returns the same records.
  const small = createRDD({ client, deserializers: strings, maxBytesPerFetch: 1024 }, [
    OffsetRange.create(topic, 0, 5n, 25n),
  ])
  assert.deepEqual(
    (await small.collect()).map((r) => [r.offset, r.value]),
    expected(5, 25),
  )
})

test('a compacted topic with gaps: the reader tolerates them and count() reads instead of subtracting', async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client, {
    configs: {
      'cleanup.policy': 'compact',
      'segment.ms': '100',
      'min.cleanable.dirty.ratio': '0.01',
      'min.compaction.lag.ms': '0',
      'delete.retention.ms': '100',
    },
  })
  // Offsets 0-9: k0..k9 = a; offsets 10-14: k0..k4 = b (supersede 0-4); then a record that
  // rolls the segment so the cleaner may compact 0-14, leaving gaps at 0-4.
  await client.produce(
    Array.from({ length: 10 }, (_, i) => ({ topic, partition: 0, key: `k${i}`, value: 'a' })),
  )
  await client.produce(
    Array.from({ length: 5 }, (_, i) => ({ topic, partition: 0, key: `k${i}`, value: 'b' })),
  )
  await sleep(300)
  await client.produce([{ topic, partition: 0, key: 'roll', value: 'r' }])

  const whole = createRDD({ client, deserializers: strings }, [OffsetRange.create(topic, 0, 0n, 16n)])
  const deadline = Date.now() + 60_000
  let records = await whole.collect()
  while (records[0]?.offset !== 5n && Date.now() < deadline) {
    await sleep(250)
    records = await whole.collect()
  }
  assert.deepEqual(
    records.map((r) => [r.offset, r.key, r.value]),
    [
      [5n, 'k5', 'a'],
      [6n, 'k6', 'a'],
      [7n, 'k7', 'a'],
      [8n, 'k8', 'a'],
      [9n, 'k9', 'a'],
      [10n, 'k0', 'b'],
      [11n, 'k1', 'b'],
      [12n, 'k2', 'b'],
      [13n, 'k3', 'b'],
      [14n, 'k4', 'b'],
      [15n, 'roll', 'r'],
    ],
  )
  assert.equal(await whole.count(), 11, 'cleanup.policy=compact makes count() read')
  const startingInGap = createRDD({ client, deserializers: strings }, [OffsetRange.create(topic, 0, 2n, 8n)])
  assert.deepEqual(
    (await startingInGap.collect()).map((r) => r.offset),
    [5n, 6n, 7n],
  )
  const onlyGap = createRDD({ client, deserializers: strings }, [OffsetRange.create(topic, 0, 1n, 4n)])
  assert.deepEqual(await onlyGap.collect(), [])
  assert.equal(await onlyGap.isEmpty(), true)
})

test('read_committed sees the committed transaction and not the aborted one', async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client)
  // Transaction markers are written asynchronously after commit/abort returns: wait for each
  // (the last stable offset passes it) so the offsets below are the same in every run.
  await client.produce([{ topic, partition: 0, value: 'plain-1' }]) // offset 0
  await produceTransaction(topic, 0, ['committed-1', 'committed-2'], 'commit') // 1, 2, marker 3
  await waitForLastStableOffset(client, topic, 0, 4n)
  await produceTransaction(topic, 0, ['aborted-1', 'aborted-2'], 'abort') // 4, 5, marker 6
  await waitForLastStableOffset(client, topic, 0, 7n)
  await client.produce([{ topic, partition: 0, value: 'plain-2' }]) // offset 7
  const range = [OffsetRange.create(topic, 0, 0n, 8n)]

  const committed = createRDD({ client, deserializers: strings }, range)
  assert.deepEqual(
    (await committed.collect()).map((r) => [r.offset, r.value]),
    [
      [0n, 'plain-1'],
      [1n, 'committed-1'],
      [2n, 'committed-2'],
      [7n, 'plain-2'],
    ],
  )
  const uncommitted = createRDD({ client, deserializers: strings, isolationLevel: 'read_uncommitted' }, range)
  assert.deepEqual(
    (await uncommitted.collect()).map((r) => r.value),
    ['plain-1', 'committed-1', 'committed-2', 'aborted-1', 'aborted-2', 'plain-2'],
  )
  // Markers take offsets: arithmetic gives the span, reading gives the records.
  assert.equal(await committed.count(), 8)
  assert.equal(await createRDD({ client, allowNonConsecutiveOffsets: true }, range).count(), 4)
})

test('take(5) on a 10-partition RDD fetches only the first partition; count() fetches nothing', async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions: 10 })
  await client.produce(
    Array.from({ length: 1000 }, (_, i) => ({
      topic,
      partition: i % 10,
      value: `p${i % 10}-${Math.floor(i / 10)}`,
    })),
  )
  const rdd = createRDD(
    { client, deserializers: strings },
    Array.from({ length: 10 }, (_, p) => OffsetRange.create(topic, p, 0n, 100n)),
  )
  await rdd.count() // the range check happens once, outside what is measured below
  const { result, fetches } = await countingFetches(() => rdd.take(5))
  assert.deepEqual(
    result.map((r) => r.value),
    ['p0-0', 'p0-1', 'p0-2', 'p0-3', 'p0-4'],
  )
  assert.deepEqual(
    fetches.map((f) => [f.partition, f.offset]),
    [[0, 0n]],
  )
  const counted = await countingFetches(() => rdd.count())
  assert.equal(counted.result, 1000)
  assert.equal(counted.fetches.length, 0)
  const total = await rdd.map(() => 1).reduce((a, b) => a + b)
  assert.equal(total, 1000)
})

test('bad ranges fail before any task runs, naming the range and the valid bounds', async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions: 2 })
  await produceValues(
    client,
    topic,
    0,
    Array.from({ length: 10 }, (_, i) => `v${i}`),
  )
  await client.deleteRecords([{ topic, partition: 0, offset: 3n }])

  const fails = async (range: OffsetRange, check: (error: SluiceError) => boolean) => {
    const rdd = createRDD({ client }, [range])
    const { fetches } = await countingFetches(() => assert.rejects(rdd.collect(), check))
    assert.equal(fetches.length, 0, 'no task ran')
    await assert.rejects(rdd.count(), check)
  }
  await fails(
    OffsetRange.create(topic, 0, 5n, 12n),
    (e) =>
      e.code === ErrorCodes.OFFSET_OUT_OF_RANGE &&
      e.message ===
        `offset range ${topic}-0 [5, 12) is outside what ${topic}-0 holds: valid offsets are [3, 10) (log start, last stable offset)`,
  )
  await fails(
    OffsetRange.create(topic, 0, 1n, 4n),
    (e) => e.code === ErrorCodes.OFFSET_OUT_OF_RANGE && e.message.includes('valid offsets are [3, 10)'),
  )
  await fails(
    OffsetRange.create(topic, 7, 0n, 1n),
    (e) =>
      e.code === ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION &&
      e.message ===
        `offset range ${topic}-7 [0, 1): partition 7 does not exist in topic '${topic}' (it has 2)`,
  )
  await fails(
    OffsetRange.create(`${topic}-nope`, 0, 0n, 1n),
    (e) =>
      e.code === ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION &&
      e.message.includes(`topic '${topic}-nope' does not exist`),
  )
})

test('a record that fails to deserialize fails the task once, naming topic, partition and offset', async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client)
  await client.produce(
    ['{"n":1}', '{"n":2}', 'not json', '{"n":4}'].map((value) => ({ topic, partition: 0, value })),
  )
  const rdd = createRDD({ client, deserializers: { value: 'json' } }, [OffsetRange.create(topic, 0, 0n, 4n)])
  const { fetches } = await countingFetches(() =>
    assert.rejects(rdd.collect(), (error: SluiceError) => {
      const cause = error.cause as SluiceError
      return (
        error.code === ErrorCodes.TASK_FAILED &&
        error.message.includes(`offset range ${topic}-0 [0, 4)`) &&
        cause.code === ErrorCodes.DESERIALIZATION &&
        cause.message.startsWith(`could not deserialize the value of ${topic}-0 at offset 2:`)
      )
    }),
  )
  assert.equal(fetches.length, 1, 'deterministic failures are not retried')
  const ok = createRDD({ client, deserializers: { value: 'json' } }, [OffsetRange.create(topic, 0, 0n, 2n)])
  assert.deepEqual(
    (await ok.collect()).map((r) => r.value),
    [{ n: 1 }, { n: 2 }],
  )
})

test('createRDD from brokers opens a client per action and closes it afterwards', async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client)
  await produceValues(client, topic, 0, ['x', 'y'])
  const rdd = createRDD({ brokers: bootstrap(), deserializers: strings }, [
    OffsetRange.create(topic, 0, 0n, 2n),
  ])
  assert.deepEqual(
    (await rdd.collect()).map((r) => r.value),
    ['x', 'y'],
  )
  assert.deepEqual(
    (await rdd.collect()).map((r) => r.value),
    ['x', 'y'],
  )
})

test('invalid options fail at construction naming the option', () => {
  const range = [OffsetRange.create('t', 0, 0n, 1n)]
  const invalid = (options: object, message: string) =>
    assert.throws(
      () => createRDD(options as never, range),
      (e: SluiceError) => e.code === ErrorCodes.INVALID_OPTION && e.message === message,
    )
  const P = 'createRDD: '
  invalid({}, `${P}option 'brokers' is required (or pass 'client')`)
  invalid({ brokers: ['nohost'] }, `${P}option 'brokers[0]' is not 'host:port': "nohost"`)
  invalid(
    { brokers: ['h:1'], deserializers: { value: 'xml' } },
    `${P}option 'deserializers.value' must be 'string', 'json', 'buffer' or a function, got a string ("xml")`,
  )
  invalid(
    { brokers: ['h:1'], isolationLevel: 'dirty' },
    `${P}option 'isolationLevel' must be one of 'read_committed', 'read_uncommitted', got a string ("dirty")`,
  )
  invalid(
    { brokers: ['h:1'], maxBytesPerFetch: 10 },
    `${P}option 'maxBytesPerFetch' must be at least 1024 (bytes), got 10`,
  )
  invalid({ brokers: ['h:1'], taskConcurrency: 0 }, `${P}option 'taskConcurrency' must be at least 1, got 0`)
  invalid({ brokers: ['h:1'], maxTaskAttempts: 0 }, `${P}option 'maxTaskAttempts' must be at least 1, got 0`)
})

/** A client whose fetch answers are damaged (one byte of the last batch) while `damage` says so. */
class CorruptingClient extends KafkaClient {
  fetches = 0
  damage: (fetch: number) => boolean = () => false

  override async fetch(request: FetchRequest): Promise<FetchResult> {
    const result = await super.fetch(request)
    if (!this.damage(++this.fetches) || result.recordSet === null) return result
    const recordSet = Buffer.from(result.recordSet)
    recordSet[recordSet.length - 1]! ^= 0x01
    return { ...result, recordSet }
  }
}

test('record batch checksums: a one-off corruption is fetched again; a persistent one fails the task at once, naming the range', async (t) => {
  const setup = testClient(t)
  const topic = await createTestTopic(t, setup, { partitions: 1 })
  await produceValues(setup, topic, 0, ['a', 'b', 'c'])
  const client = new CorruptingClient({ brokers: bootstrap(), logger: silentLogger })
  t.after(() => client.close())
  const range = [OffsetRange.create(topic, 0, 0n, 3n)]

  client.damage = (fetch) => fetch === 1
  const once = await createRDD({ client, deserializers: strings }, range).collect()
  assert.deepEqual(
    once.map((r) => [r.offset, r.value]),
    [
      [0n, 'a'],
      [1n, 'b'],
      [2n, 'c'],
    ],
  )
  assert.equal(client.fetches, 2)

  client.fetches = 0
  client.damage = () => true
  await assert.rejects(
    createRDD({ client, deserializers: strings }, range).collect(),
    (error: SluiceError) => {
      assert.equal(error.code, ErrorCodes.TASK_FAILED)
      assert.match(error.message, new RegExp(`offset range ${topic}-0 \\[0, 3\\) failed after 1 attempt`))
      const cause = error.cause as SluiceError
      assert.equal(cause.code, ErrorCodes.CORRUPT_RECORD_BATCH)
      assert.equal(cause.details.topic, topic)
      assert.equal(cause.details.partition, 0)
      assert.equal(cause.details.firstOffset, 0n)
      assert.equal(cause.details.lastOffset, 2n)
      return true
    },
  )
  assert.equal(client.fetches, 2, 'one fetch and one more, then no task retry')

  client.fetches = 0
  const unchecked = await createRDD({ client, deserializers: strings, checkCrcs: false }, range).collect()
  assert.equal(unchecked.length, 3)
  assert.equal(client.fetches, 1)
})

test('checkCrcs must be a boolean', () => {
  assert.throws(
    () => createRDD({ brokers: bootstrap(), checkCrcs: 'yes' as unknown as boolean }, []),
    /option 'checkCrcs' must be a boolean, got a string \("yes"\)/,
  )
})
