import assert from 'node:assert/strict'
import { test } from 'node:test'
import { silentLogger } from '../../src/core/logger.ts'
import { KafkaClient } from '../../src/kafka/client.ts'
import { OffsetRange } from '../../src/kafka/offset-range.ts'
import { createRDD } from '../../src/source/create-rdd.ts'
import { privateBroker } from '../helpers/own-servers.ts'

// This test restarts a broker, so it gets one of its own rather than the shared test broker.
test('a range read across a broker restart returns every record exactly once', async (t) => {
  const kafka = await privateBroker(t)
  const client = new KafkaClient({ brokers: [kafka.bootstrap], logger: silentLogger, retryTimeoutMs: 60_000 })
  t.after(() => client.close())
  const topic = 'restart'
  await client.createTopics([{ name: topic, partitions: 1 }])
  const total = 3000
  for (let sent = 0; sent < total; sent += 500) {
    await client.produce(
      Array.from({ length: 500 }, (_, i) => ({ topic, partition: 0, value: `v${sent + i}` })),
    )
  }

  let restarted = false
  const rdd = createRDD({ client, deserializers: { value: 'string' }, maxBytesPerFetch: 4096 }, [
    OffsetRange.create(topic, 0, 0n, BigInt(total)),
  ]).mapPartitions(async function* restartHalfWay(records) {
    let seen = 0
    for await (const record of records) {
      if (++seen === total / 2) {
        await kafka.restart()
        restarted = true
      }
      yield record
    }
  })
  const records = await rdd.collect()
  assert.ok(restarted)
  assert.equal(records.length, total)
  assert.deepEqual(
    records.map((r) => r.offset),
    Array.from({ length: total }, (_, i) => BigInt(i)),
  )
  assert.deepEqual(
    records.map((r) => r.value),
    Array.from({ length: total }, (_, i) => `v${i}`),
  )
})
