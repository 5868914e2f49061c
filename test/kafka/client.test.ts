import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes, type SluiceError } from '../../src/core/errors.ts'
import { readRange } from '../../src/kafka/range-reader.ts'
import { batchHeaders } from '../../src/kafka/record-batch.ts'
import type { KafkaRecord } from '../../src/kafka/records.ts'
import { createTestTopic, recentTimestamp, testClient } from '../helpers/kafka.ts'

const asString = (b: Buffer) => b.toString('utf8')

async function readAll(
  client: ReturnType<typeof testClient>,
  topic: string,
  partition: number,
  from: bigint,
  until: bigint,
) {
  const out: KafkaRecord<string, string>[] = []
  for await (const chunk of readRange(client, {
    topic,
    partition,
    from,
    until,
    isolationLevel: 'read_committed',
    maxBytesPerFetch: 64 * 1024,
    key: asString,
    value: asString,
  })) {
    out.push(...chunk)
  }
  return out
}

test('records produced to a 3-partition topic read back with exact keys, values, headers and offsets', async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions: 3 })
  const base = recentTimestamp()
  const records = Array.from({ length: 30 }, (_, i) => ({
    topic,
    partition: i % 3,
    key: `key-${i}`,
    value: `value-${i}`,
    headers: [
      ['source', 'test'],
      ['index', String(i)],
    ] as [string, string][],
    timestamp: base + i,
  }))
  await client.produce(records)

  for (let partition = 0; partition < 3; partition++) {
    const got = await readAll(client, topic, partition, 0n, 10n)
    assert.deepEqual(
      got.map((r) => ({
        offset: r.offset,
        key: r.key,
        value: r.value,
        timestamp: r.timestamp,
        headers: r.headers.map(([k, v]) => [k, v?.toString()]),
      })),
      Array.from({ length: 10 }, (_, j) => {
        const i = j * 3 + partition
        return {
          offset: BigInt(j),
          key: `key-${i}`,
          value: `value-${i}`,
          timestamp: base + i,
          headers: [
            ['source', 'test'],
            ['index', String(i)],
          ],
        }
      }),
    )
    assert.ok(got.every((r) => r.topic === topic && r.partition === partition))
  }
})

test('listOffsets earliest, latest and lastStable agree with what was produced', async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions: 3 })
  await client.produce(
    Array.from({ length: 7 }, (_, i) => ({ topic, partition: i < 5 ? 0 : 2, value: `v${i}` })),
  )
  const partitions = [0, 1, 2].map((partition) => ({ topic, partition }))
  assert.deepEqual(
    (await client.listOffsets(partitions, 'earliest')).map((o) => o.offset),
    [0n, 0n, 0n],
  )
  assert.deepEqual(
    (await client.listOffsets(partitions, 'latest')).map((o) => o.offset),
    [5n, 0n, 2n],
  )
  assert.deepEqual(
    (await client.listOffsets(partitions, 'lastStable')).map((o) => o.offset),
    [5n, 0n, 2n],
  )
})

test('listOffsets by timestamp finds the first record at or after it, and the log end past the last', async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client)
  const base = recentTimestamp()
  await client.produce(
    [0, 10, 20, 30].map((dt) => ({ topic, partition: 0, value: `at ${dt}`, timestamp: base + dt })),
  )
  const at = async (timestamp: number) =>
    (await client.listOffsets([{ topic, partition: 0 }], { timestamp }))[0]!.offset
  assert.equal(await at(base), 0n)
  assert.equal(await at(base + 15), 2n)
  assert.equal(await at(base + 30), 3n)
  assert.equal(await at(base + 31), 4n)
})

test('a fetch starting in the middle of a record batch returns nothing below the requested offset', async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client)
  // One send to one partition is one record batch holding offsets 0..9.
  await client.produce(Array.from({ length: 10 }, (_, i) => ({ topic, partition: 0, value: `v${i}` })))
  const raw = await client.fetch({
    topic,
    partition: 0,
    offset: 4n,
    maxBytes: 1 << 20,
    isolationLevel: 'read_committed',
  })
  assert.equal(batchHeaders(raw.recordSet!)[0]?.firstOffset, 0n, 'the broker hands back the whole batch')
  const got = await readAll(client, topic, 0, 4n, 10n)
  assert.deepEqual(
    got.map((r) => [r.offset, r.value]),
    [4, 5, 6, 7, 8, 9].map((i) => [BigInt(i), `v${i}`]),
  )
  const middle = await readAll(client, topic, 0, 4n, 7n)
  assert.deepEqual(
    middle.map((r) => r.offset),
    [4n, 5n, 6n],
  )
})

test('unknown topics and partitions fail with UNKNOWN_TOPIC_OR_PARTITION naming them', async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions: 2 })
  await assert.rejects(
    client.listOffsets([{ topic: `${topic}-missing`, partition: 0 }], 'latest'),
    (error: SluiceError) =>
      error.code === ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION && error.message.includes(`'${topic}-missing'`),
  )
  await assert.rejects(
    client.fetch({ topic, partition: 5, offset: 0n, maxBytes: 1024, isolationLevel: 'read_committed' }),
    (error: SluiceError) =>
      error.code === ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION &&
      error.message === `partition 5 does not exist in topic '${topic}' (it has 2)`,
  )
})

test('a fetch beyond the log end fails with OFFSET_OUT_OF_RANGE naming partition and offset', async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client)
  await client.produce([{ topic, partition: 0, value: 'only' }])
  await assert.rejects(
    client.fetch({ topic, partition: 0, offset: 50n, maxBytes: 1024, isolationLevel: 'read_committed' }),
    (error: SluiceError) =>
      error.code === ErrorCodes.OFFSET_OUT_OF_RANGE &&
      error.message.startsWith(`offset 50 is out of range for ${topic}-0`) &&
      error.retriable === false,
  )
})

test('deleteRecords moves the log start offset and createPartitions grows a topic', async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions: 1 })
  await client.produce(Array.from({ length: 5 }, (_, i) => ({ topic, partition: 0, value: `v${i}` })))
  await client.deleteRecords([{ topic, partition: 0, offset: 3n }])
  assert.equal((await client.listOffsets([{ topic, partition: 0 }], 'earliest'))[0]!.offset, 3n)
  await client.createPartitions(topic, 3)
  const cluster = await client.metadata([topic], { refresh: true })
  assert.equal(cluster.topics.get(topic)?.partitions.length, 3)
})
