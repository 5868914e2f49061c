import assert from 'node:assert/strict'
import { type TestContext, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { ErrorCodes, type SluiceError } from '../../src/core/errors.ts'
import { silentLogger } from '../../src/core/logger.ts'
import { KafkaClient } from '../../src/kafka/client.ts'
import { type FetchEvent, fetchChannel } from '../../src/kafka/diagnostics.ts'
import { OffsetRange } from '../../src/kafka/offset-range.ts'
import type { LocalKafka } from '../../src/local-kafka/broker.ts'
import { createRDD } from '../../src/source/create-rdd.ts'
import { createDirectStream } from '../../src/source/direct-stream.ts'
import type { BatchInfo } from '../../src/stream/batch.ts'
import { StreamingContext } from '../../src/stream/streaming-context.ts'
import { eventually } from '../helpers/eventually.ts'
import { privateBroker } from '../helpers/own-servers.ts'
import { tempDir } from '../helpers/temp-dir.ts'

// What a client sees of a broker restart is the downtime plus the broker's own start (JVM, log
// recovery after SIGKILL): 10–30 s on the shared machine. Budgets that must outlast an outage
// leave room for that.
const outlastsAnyOutage = 120_000

const values = (from: number, until: number) => Array.from({ length: until - from }, (_, i) => `v${from + i}`)

/** A topic on the test's broker, deleted when the subtest ends. */
async function topicOf(
  t: TestContext,
  client: KafkaClient,
  name: string,
  partitions: number,
): Promise<string> {
  await client.createTopics([{ name, partitions }])
  t.after(() => client.deleteTopics([name]).catch(() => {}))
  return name
}

async function produceValues(
  client: KafkaClient,
  topic: string,
  partitions: number,
  from: number,
  count: number,
) {
  await client.produce(
    Array.from({ length: count }, (_, i) => ({
      topic,
      partition: (from + i) % partitions,
      value: `v${from + i}`,
    })),
  )
}

/** A stream that collects every value and BatchInfo, and remembers how it ended. */
async function startStream(
  t: TestContext,
  kafka: LocalKafka,
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
    onStreamingStopped: (event) => {
      if (event.error) failure = event.error
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
    await eventually(() => seen.length >= count || failure !== undefined, `${count} values`, {
      timeoutMs: outlastsAnyOutage,
    })
    if (failure) throw failure
  }
  return { ssc, seen, infos, ended, failure: () => failure, waitForValues }
}

/** Kills the broker (SIGKILL), leaves it down for `downMs`, and starts it again on the same port and data. */
async function outage(kafka: LocalKafka, downMs: number): Promise<void> {
  await kafka.kill()
  await sleep(downMs)
  await kafka.start()
}

// One broker of the test's own for all of these: they restart and kill it.
test('reads and planning across broker restarts and SIGKILLs', { timeout: 900_000 }, async (t) => {
  const kafka = await privateBroker(t)
  const client = new KafkaClient({
    brokers: [kafka.bootstrap],
    logger: silentLogger,
    retryTimeoutMs: outlastsAnyOutage,
  })
  t.after(() => client.close())

  await t.test(
    'a range read across a broker restart fetches the rest from the restarted broker and returns every record exactly once',
    {
      timeout: 300_000,
    },
    async (t) => {
      const topic = await topicOf(t, client, 'restart', 1)
      const total = 3000
      // 30 small record batches, read a few per 4 KiB fetch: half of them are still unread when the
      // broker restarts half-way, so the read must fetch again from the restarted broker.
      for (let sent = 0; sent < total; sent += 100) await produceValues(client, topic, 1, sent, 100)

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
      assert.deepEqual(
        records.map((r) => r.offset),
        Array.from({ length: total }, (_, i) => BigInt(i)),
      )
      assert.deepEqual(
        records.map((r) => r.value),
        values(0, total),
      )
    },
  )

  await t.test(
    'a direct stream rides out a broker killed for 2 s and for 8 s: exact output, consecutive batches',
    {
      timeout: 300_000,
    },
    async (t) => {
      const topic = await topicOf(t, client, 'outages', 2)
      await produceValues(client, topic, 2, 0, 2000)
      const job = await startStream(t, kafka, topic, tempDir(t, 'outage-ckpt'), {
        retryTimeoutMs: outlastsAnyOutage,
      })

      // The first outage hits a stream with a backlog (reads in flight), the second an idle one (planning).
      await job.waitForValues(400)
      await outage(kafka, 2000)
      await produceValues(client, topic, 2, 2000, 1000)
      await job.waitForValues(3000)
      await outage(kafka, 8000)
      await produceValues(client, topic, 2, 3000, 1000)
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
      assert.ok(
        longestDelay >= 8000 - 200,
        `the longest scheduling delay (${longestDelay} ms) covers the outage`,
      )
    },
  )

  await t.test(
    'an outage longer than retryTimeoutMs fails naming the broker and ECONNREFUSED; a restart resumes exactly',
    {
      timeout: 300_000,
    },
    async (t) => {
      const topic = await topicOf(t, client, 'long-outage', 2)
      const checkpoint = tempDir(t, 'outage-ckpt')
      await produceValues(client, topic, 2, 0, 200)
      const first = await startStream(t, kafka, topic, checkpoint, { retryTimeoutMs: 2000 })
      await first.waitForValues(200)

      await kafka.kill()
      const error = await first.ended
      await kafka.start()
      assert.ok(error !== undefined, 'the stream failed')
      assert.equal(first.failure(), error)
      assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${kafka.state.port}`))
      assert.match(error.message, /ECONNREFUSED/)
      assert.equal(error.code, ErrorCodes.KAFKA)

      await produceValues(client, topic, 2, 200, 200)
      const second = await startStream(t, kafka, topic, checkpoint)
      await eventually(() => first.seen.length + second.seen.length >= 400, 'the rest', { timeoutMs: 60_000 })
      await second.ssc.stop({ graceful: true })
      assert.equal(await second.ended, undefined)
      assert.deepEqual([...first.seen, ...second.seen].sort(), values(0, 400).sort())
    },
  )

  await t.test(
    'createRDD planned and read while the broker is down completes once it is back',
    {
      timeout: 300_000,
    },
    async (t) => {
      const topic = await topicOf(t, client, 'rdd-outage', 2)
      await produceValues(client, topic, 2, 0, 400)
      const rdd = createRDD(
        {
          brokers: [kafka.bootstrap],
          deserializers: { value: 'string' },
          logger: silentLogger,
          retryTimeoutMs: outlastsAnyOutage,
        },
        [OffsetRange.create(topic, 0, 0n, 200n), OffsetRange.create(topic, 1, 0n, 200n)],
      )
      await kafka.kill()
      // The action checks its ranges against the log (metadata, ListOffsets) with nobody answering.
      const collected = rdd.map((r) => r.value!).collect()
      await sleep(2000)
      await kafka.start()
      assert.deepEqual((await collected).sort(), values(0, 400).sort())
    },
  )
})
