// The receiver across a broker restart: its consumer loses the group coordinator and the
// partition leaders, and either the wire client reconnects or the supervisor restarts it. No
// error escapes, nothing is lost, and what comes twice is a re-delivery of the same record.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { silentLogger } from '../../../src/core/logger.ts'
import { KafkaClient } from '../../../src/kafka/client.ts'
import { createReceiverStream } from '../../../src/source/receiver/receiver-input-dstream.ts'
import { StreamingContext } from '../../../src/stream/streaming-context.ts'
import { eventually } from '../../helpers/eventually.ts'
import { privateBroker } from '../../helpers/own-servers.ts'
import { tempDir } from '../../helpers/temp-dir.ts'

const partitions = 2
const perRound = 2_000

function round(topic: string, first: number) {
  return Array.from({ length: perRound }, (_, i) => ({
    topic,
    partition: (first + i) % partitions,
    value: `v${first + i}`,
  }))
}

test('with the write-ahead log, a broker restart under a running receiver loses nothing', {
  timeout: 300_000,
}, async (t) => {
  const kafka = await privateBroker(t)
  const client = new KafkaClient({ brokers: [kafka.bootstrap], logger: silentLogger, retryTimeoutMs: 60_000 })
  t.after(() => client.close())
  const topic = 'receiver-restart'
  await client.createTopics([{ name: topic, partitions }])
  await client.produce(round(topic, 0))

  const ssc = new StreamingContext({
    appName: 'receiver-restart',
    batchInterval: 300,
    checkpoint: tempDir(t, 'receiver-restart'),
    stopOnSignals: false,
    logger: silentLogger,
  })
  const stream = createReceiverStream<string, string>(ssc, {
    brokers: [kafka.bootstrap],
    topics: [topic],
    groupId: 'receiver-restart',
    startingOffsets: 'earliest',
    deserializers: { value: 'string' },
    writeAheadLog: true,
    receiverMaxRate: 1_000,
    restartDelay: 500,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    retryTimeoutMs: 60_000,
  })
  const seen = new Map<string, string[]>()
  stream.foreachBatch(async (rdd) => {
    for (const r of await rdd.collect()) {
      const key = `${r.partition}:${r.offset}`
      seen.set(key, [...(seen.get(key) ?? []), r.value!])
    }
  })
  await ssc.start()
  t.after(() => ssc.stop({ graceful: false }))
  // The receiver is part-way through the first round (1,000 records/s) when the broker goes.
  await eventually(() => seen.size >= perRound / 4, 'a quarter of the first round', { timeoutMs: 60_000 })
  await kafka.restart()
  await client.produce(round(topic, perRound))
  await eventually(() => seen.size === 2 * perRound, 'every record of both rounds', {
    timeoutMs: 180_000,
    intervalMs: 200,
  })
  await sleep(500)
  await ssc.stop()
  await ssc.awaitTermination()

  assert.equal(seen.size, 2 * perRound, 'every record processed')
  const values = new Set<string>()
  for (const [key, copies] of seen) {
    assert.equal(new Set(copies).size, 1, `record ${key}: every copy carries the same value`)
    values.add(copies[0]!)
  }
  assert.deepEqual([...values].sort(), Array.from({ length: 2 * perRound }, (_, i) => `v${i}`).sort())
  t.diagnostic(
    `restarts of the receiver: ${stream.stats.restarts}; records seen twice or more: ${[...seen.values()].filter((c) => c.length > 1).length}`,
  )
})
