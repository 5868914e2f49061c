import assert from 'node:assert/strict'
import { test } from 'node:test'
import { silentLogger } from '../../src/core/logger.ts'
import { KafkaClient } from '../../src/kafka/client.ts'
import { type FetchEvent, fetchChannel } from '../../src/kafka/diagnostics.ts'
import { OffsetRange } from '../../src/kafka/offset-range.ts'
import { createRDD } from '../../src/source/create-rdd.ts'
import { privateBroker } from '../helpers/own-servers.ts'

// This test restarts a broker, so it gets one of its own rather than the shared test broker.
test('a range read across a broker restart fetches the rest from the restarted broker and returns every record exactly once', async (t) => {
  const kafka = await privateBroker(t)
  const client = new KafkaClient({ brokers: [kafka.bootstrap], logger: silentLogger, retryTimeoutMs: 60_000 })
  t.after(() => client.close())
  const topic = 'restart'
  await client.createTopics([{ name: topic, partitions: 1 }])
  const total = 3000
  // 30 small record batches, read a few per 4 KiB fetch: half of them are still unread when the
  // broker restarts half-way, so the read must fetch again from the restarted broker.
  for (let sent = 0; sent < total; sent += 100) {
    await client.produce(
      Array.from({ length: 100 }, (_, i) => ({ topic, partition: 0, value: `v${sent + i}` })),
    )
  }

  // Every fetch the read sends, and whether it went out after the restart.
  const fetches: { offset: bigint; afterRestart: boolean }[] = []
  const onFetch = (message: unknown) => {
    const event = message as FetchEvent
    if (event.topic === topic) fetches.push({ offset: event.offset, afterRestart: restarted })
  }
  fetchChannel.subscribe(onFetch)
  t.after(() => fetchChannel.unsubscribe(onFetch))
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
  const after = fetches.filter((f) => f.afterRestart)
  assert.ok(
    after.length > 0 && after[0]!.offset >= BigInt(total / 2) && after[0]!.offset < BigInt(total),
    `records after the restart were fetched from the restarted broker (fetches at ${fetches.map((f) => `${f.offset}${f.afterRestart ? '*' : ''}`).join(', ')})`,
  )
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
