import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, type TestContext, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { ErrorCodes, type SluiceError } from '../../src/core/errors.ts'
import { silentLogger } from '../../src/core/logger.ts'
import { KafkaClient } from '../../src/kafka/client.ts'
import { OffsetRange } from '../../src/kafka/offset-range.ts'
import { type LocalKafka, startLocalKafka } from '../../src/local-kafka/broker.ts'
import { createRDD } from '../../src/source/create-rdd.ts'
import { createDirectStream } from '../../src/source/direct-stream.ts'
import type { BatchInfo } from '../../src/stream/batch.ts'
import { StreamingContext } from '../../src/stream/streaming-context.ts'

// These tests kill and restart a broker, so they share one of their own rather than the run's broker.
const brokerDir = mkdtempSync(join(tmpdir(), 'sluice-restart-'))
let kafka: LocalKafka
let client: KafkaClient

before(async () => {
  kafka = (await startLocalKafka({ dir: brokerDir, logger: silentLogger, heapMb: 512 })).kafka
  client = new KafkaClient({ brokers: [kafka.bootstrap], logger: silentLogger, retryTimeoutMs: 120_000 })
})

after(async () => {
  await client?.close()
  await kafka?.stop()
  rmSync(brokerDir, { recursive: true, force: true })
})

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-restart-ckpt-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function eventually(predicate: () => boolean, what: string, ms = 90_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

async function produceValues(topic: string, partitions: number, from: number, count: number): Promise<void> {
  await client.produce(
    Array.from({ length: count }, (_, i) => ({
      topic,
      partition: (from + i) % partitions,
      value: `v${from + i}`,
    })),
  )
}

const values = (from: number, until: number) => Array.from({ length: until - from }, (_, i) => `v${from + i}`)

/** A stream that collects every value and BatchInfo, and remembers how it ended. */
async function startStream(
  t: TestContext,
  topic: string,
  checkpoint: string,
  extra: { retryTimeoutMs?: number } = {},
) {
  const ssc = new StreamingContext({
    appName: 'outage',
    batchInterval: 200,
    checkpoint,
    logger: silentLogger,
  })
  const stream = createDirectStream<string, string>(ssc, {
    brokers: [kafka.bootstrap],
    subscribe: [topic],
    startingOffsets: 'earliest',
    deserializers: { value: 'string' },
    maxRatePerPartition: 1000, // 200 records per partition per batch: a backlog takes a few batches
    ...extra,
  })
  const seen: string[] = []
  const infos: BatchInfo[] = []
  let failure: SluiceError | undefined
  ssc.addListener({
    onBatchCompleted: (info) => infos.push(info),
    onStreamError: (error) => {
      failure = error
    },
  })
  stream
    .map((r) => r.value!)
    .foreachBatch(async (rdd) => {
      seen.push(...(await rdd.collect()))
    })
  await ssc.start()
  // A failed assertion must not leave the stream running against a broker that is stopped next.
  t.after(() => ssc.stop({ graceful: false }))
  const ended = ssc.awaitTermination().then(
    () => undefined,
    (error: SluiceError) => error,
  )
  /** Waits until `count` values were seen; a stream that fails meanwhile fails the wait with its error. */
  const waitForValues = async (count: number) => {
    await eventually(() => seen.length >= count || failure !== undefined, `${count} values`)
    if (failure) throw failure
  }
  return { ssc, seen, infos, ended, failure: () => failure, waitForValues }
}

/** Kills the broker (SIGKILL), leaves it down for `downMs`, and starts it again on the same port and data. */
async function outage(downMs: number): Promise<void> {
  await kafka.kill()
  await sleep(downMs)
  await kafka.start()
}

test('a direct stream rides out a broker killed for 2 s and for 8 s: exact output, consecutive batches', async (t) => {
  const topic = 'outages'
  await client.createTopics([{ name: topic, partitions: 2 }])
  t.after(() => client.deleteTopics([topic]).catch(() => {}))
  await produceValues(topic, 2, 0, 2000)
  // What the stream sees is the downtime plus the broker's own start (JVM, log recovery after
  // SIGKILL): 10–20 s on a busy machine. The budget leaves room for that.
  const job = await startStream(t, topic, tempDir(t), { retryTimeoutMs: 120_000 })

  // The first outage hits a stream with a backlog (reads in flight), the second an idle one (planning).
  await job.waitForValues(400)
  await outage(2000)
  await produceValues(topic, 2, 2000, 1000)
  await job.waitForValues(3000)
  await outage(8000)
  await produceValues(topic, 2, 3000, 1000)
  await job.waitForValues(4000)
  await job.ssc.stop({ graceful: true })
  assert.equal(await job.ended, undefined, 'the stream did not fail')

  assert.deepEqual([...job.seen].sort(), values(0, 4000).sort())
  assert.deepEqual(
    job.infos.map((i) => i.id),
    job.infos.map((_, i) => i),
    'every batch id, none skipped',
  )
  // Batches due while the broker was down waited for it: their scheduling delay shows the outage.
  const longestDelay = Math.max(...job.infos.map((i) => i.schedulingDelay))
  assert.ok(longestDelay >= 8000 - 200, `the longest scheduling delay (${longestDelay} ms) covers the outage`)
})

test('an outage longer than retryTimeoutMs fails naming the broker and ECONNREFUSED; a restart resumes exactly', async (t) => {
  const topic = 'long-outage'
  await client.createTopics([{ name: topic, partitions: 2 }])
  t.after(() => client.deleteTopics([topic]).catch(() => {}))
  const checkpoint = tempDir(t)
  await produceValues(topic, 2, 0, 200)
  const first = await startStream(t, topic, checkpoint, { retryTimeoutMs: 2000 })
  await first.waitForValues(200)

  await kafka.kill()
  const error = await first.ended
  await kafka.start()
  assert.ok(error !== undefined, 'the stream failed')
  assert.equal(first.failure(), error)
  assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${kafka.state.port}`))
  assert.match(error.message, /ECONNREFUSED/)
  assert.equal(error.code, ErrorCodes.KAFKA)

  await produceValues(topic, 2, 200, 200)
  const second = await startStream(t, topic, checkpoint)
  await eventually(() => first.seen.length + second.seen.length >= 400, 'the rest')
  await second.ssc.stop({ graceful: true })
  assert.equal(await second.ended, undefined)
  assert.deepEqual([...first.seen, ...second.seen].sort(), values(0, 400).sort())
})

test('a range read across a broker restart returns every record exactly once', async (t) => {
  const topic = 'restart-read'
  await client.createTopics([{ name: topic, partitions: 1 }])
  t.after(() => client.deleteTopics([topic]).catch(() => {}))
  const total = 3000
  for (let sent = 0; sent < total; sent += 500) await produceValues(topic, 1, sent, 500)

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
  assert.deepEqual(
    records.map((r) => r.offset),
    Array.from({ length: total }, (_, i) => BigInt(i)),
  )
  assert.deepEqual(
    records.map((r) => r.value),
    values(0, total),
  )
})

test('createRDD planned and read while the broker is down completes once it is back', async (t) => {
  const topic = 'rdd-outage'
  await client.createTopics([{ name: topic, partitions: 2 }])
  t.after(() => client.deleteTopics([topic]).catch(() => {}))
  await produceValues(topic, 2, 0, 400)
  const rdd = createRDD(
    {
      brokers: [kafka.bootstrap],
      deserializers: { value: 'string' },
      logger: silentLogger,
      retryTimeoutMs: 120_000, // the broker's own start can take half a minute on a busy machine
    },
    [OffsetRange.create(topic, 0, 0n, 200n), OffsetRange.create(topic, 1, 0n, 200n)],
  )
  await kafka.kill()
  // The action checks its ranges against the log (metadata, ListOffsets) with nobody answering.
  const collected = rdd.map((r) => r.value!).collect()
  await sleep(2000)
  await kafka.start()
  assert.deepEqual((await collected).sort(), values(0, 400).sort())
})
