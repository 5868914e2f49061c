// The direct stream against a real broker, where its checkpointed positions meet a log that
// changed: retention, a pending batch whose records are gone, topics dropped and added back,
// and two contexts in one process. Batches run on a ManualClock, one at a time.
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { ErrorCodes } from '../../src/core/errors.ts'
import { silentLogger } from '../../src/core/logger.ts'
import type { KafkaClient } from '../../src/kafka/client.ts'
import { ManualClock } from '../../src/scheduler/manual-clock.ts'
import { createDirectStream, type DirectStreamOptions } from '../../src/source/direct-stream.ts'
import type { Batch } from '../../src/stream/batch.ts'
import { StreamingContext } from '../../src/stream/streaming-context.ts'
import { BatchDriver } from '../../src/testing/batch-driver.ts'
import { bootstrap, createTestTopic, testClient } from '../helpers/kafka.ts'
import { tempDir } from '../helpers/temp-dir.ts'

interface Seen {
  readonly batch: Batch
  readonly values: string[]
}

/** A job that collects every batch's values; `failAt` makes the output of that batch throw. */
function valueJob(options: {
  appName: string
  checkpoint: string
  stream: Partial<DirectStreamOptions<string, string>>
  failAt?: number
}) {
  const clock = new ManualClock(1_000_000)
  const ssc = new StreamingContext({
    appName: options.appName,
    batchInterval: 100,
    checkpoint: options.checkpoint,
    clock,
    logger: silentLogger,
  })
  const stream = createDirectStream<string, string>(ssc, {
    brokers: bootstrap(),
    startingOffsets: 'earliest',
    deserializers: { value: 'string' },
    ...options.stream,
  } as DirectStreamOptions<string, string>)
  const seen: Seen[] = []
  stream.foreachBatch(async (rdd, batch) => {
    if (batch.id === options.failAt) throw new Error('the sink is down')
    seen.push({ batch, values: (await rdd.map((r) => r.value!).collect()).sort() })
  })
  return { ssc, stream, seen, driver: new BatchDriver(ssc, clock) }
}

/** What every data-loss error says after naming the lost ranges. */
const howToGoOn =
  'To go on, either restart with failOnDataLoss: false (the stream then skips what is gone, counts it ' +
  'in BatchInfo.lostRecords and hands it to outputs as batch.lostRanges, which exactly-once sinks record), ' +
  'or move the checkpoint past it with `sluice checkpoint reset <checkpoint dir> --to earliest`.'

/** Starts the job and expects the stream to stop with exactly this data-loss error. */
async function expectDataLoss(job: ReturnType<typeof valueJob>, message: string): Promise<void> {
  await job.ssc.start()
  await assert.rejects(job.ssc.awaitTermination(), { code: ErrorCodes.OFFSET_OUT_OF_RANGE, message })
  assert.deepEqual(job.seen, [])
}

async function produce(client: KafkaClient, topic: string, partition: number, from: number, count: number) {
  await client.produce(
    Array.from({ length: count }, (_, i) => ({ topic, partition, value: `p${partition}-${from + i}` })),
  )
}

const values = (partition: number, from: number, until: number) =>
  Array.from({ length: until - from }, (_, i) => `p${partition}-${from + i}`)

async function twoPartitionTopic(t: TestContext, client: KafkaClient): Promise<string> {
  const topic = await createTestTopic(t, client, { partitions: 2 })
  await produce(client, topic, 0, 0, 5)
  await produce(client, topic, 1, 0, 5)
  return topic
}

test('data lost to retention: the error names every partition; with failOnDataLoss: false the batch carries lostRanges', async (t) => {
  const client = testClient(t)
  const topic = await twoPartitionTopic(t, client)
  const dir = tempDir(t, 'checkpoint')
  const first = valueJob({ appName: 'loss', checkpoint: dir, stream: { subscribe: [topic] } })
  await first.ssc.start()
  await first.driver.next()
  await first.ssc.stop()
  // While the job is down, more arrives and retention removes part of it on both partitions.
  await produce(client, topic, 0, 5, 10)
  await produce(client, topic, 1, 5, 10)
  await client.deleteRecords([
    { topic, partition: 0, offset: 12n },
    { topic, partition: 1, offset: 9n },
  ])

  await expectDataLoss(
    valueJob({ appName: 'loss', checkpoint: dir, stream: { subscribe: [topic] } }),
    `planning batch 1: records ${topic}-0 [5, 12), ${topic}-1 [5, 9) were deleted (retention) before the stream ` +
      `read them. ${howToGoOn}`,
  )

  const lenient = valueJob({
    appName: 'loss',
    checkpoint: dir,
    stream: { subscribe: [topic], failOnDataLoss: false },
  })
  await lenient.ssc.start()
  const info = await lenient.driver.next()
  await lenient.ssc.stop()
  const [batch] = lenient.seen
  assert.deepEqual(batch?.batch.offsetRanges.map(String), [`${topic}-0 [12, 15)`, `${topic}-1 [9, 15)`])
  assert.deepEqual(batch.batch.lostRanges.map(String), [`${topic}-0 [5, 12)`, `${topic}-1 [5, 9)`])
  assert.deepEqual(batch.values, [...values(0, 12, 15), ...values(1, 9, 15)].sort())
  assert.equal(info.lostRecords, 11)
  assert.equal(info.progress.sources[0]!.lostRecords, 11)
})

test('retention deleting the ranges of a pending batch: the re-run fails saying how to go on, or reads what is left', async (t) => {
  const client = testClient(t)
  const topic = await twoPartitionTopic(t, client)
  const dir = tempDir(t, 'checkpoint')
  const crashed = valueJob({ appName: 'pending', checkpoint: dir, stream: { subscribe: [topic] }, failAt: 0 })
  await crashed.ssc.start()
  await assert.rejects(crashed.driver.next())
  await crashed.ssc.awaitTermination().catch(() => {})
  // Batch 0 ([0, 5) of both partitions) is pending. Retention takes part of partition 0's
  // range and all of partition 1's.
  await produce(client, topic, 1, 5, 3)
  await client.deleteRecords([
    { topic, partition: 0, offset: 2n },
    { topic, partition: 1, offset: 7n },
  ])
  for (let attempt = 0; attempt < 2; attempt++) {
    await expectDataLoss(
      valueJob({ appName: 'pending', checkpoint: dir, stream: { subscribe: [topic] } }),
      'batch 0 was planned by an earlier run and cannot be re-run as planned: retention deleted ' +
        `${topic}-0 [0, 2) (the log now starts at 2), ${topic}-1 [0, 5) (the log now starts at 7) since. ${howToGoOn}`,
    )
  }

  const lenient = valueJob({
    appName: 'pending',
    checkpoint: dir,
    stream: { subscribe: [topic], failOnDataLoss: false },
  })
  await lenient.ssc.start()
  const [replay, next] = await lenient.driver.run(2)
  await lenient.ssc.stop()
  const [rerun, after] = lenient.seen
  assert.equal(rerun?.batch.id, 0)
  assert.equal(rerun.batch.replay, true)
  assert.deepEqual(rerun.batch.offsetRanges.map(String), [`${topic}-0 [2, 5)`, `${topic}-1 [5, 5)`])
  assert.deepEqual(rerun.batch.lostRanges.map(String), [`${topic}-0 [0, 2)`, `${topic}-1 [0, 5)`])
  assert.deepEqual(rerun.values, values(0, 2, 5))
  assert.equal(replay?.lostRecords, 7)
  assert.equal(replay.records, 3)
  // Planning goes on from the batch's until-offsets; partition 1's log now starts at 7.
  assert.deepEqual(after?.batch.offsetRanges.map(String), [`${topic}-0 [5, 5)`, `${topic}-1 [7, 8)`])
  assert.deepEqual(after.batch.lostRanges.map(String), [`${topic}-1 [5, 7)`])
  assert.equal(next?.lostRecords, 2)
})

test('a topic dropped from the subscription and added back resumes where it stopped, not at startingOffsets', async (t) => {
  const client = testClient(t)
  const kept = await createTestTopic(t, client)
  const dropped = await createTestTopic(t, client)
  const dir = tempDir(t, 'checkpoint')
  await produce(client, kept, 0, 0, 2)
  await produce(client, dropped, 0, 0, 3)
  const run = async (subscribe: string[]) => {
    const job = valueJob({
      appName: 'resubscribe',
      checkpoint: dir,
      stream: { subscribe, startingOffsets: 'latest' },
    })
    await job.ssc.start()
    await job.driver.next()
    await job.ssc.stop()
    return job.seen[0]!
  }
  // The first run starts at the log ends ('latest'), then reads what arrives.
  const first = valueJob({
    appName: 'resubscribe',
    checkpoint: dir,
    stream: { subscribe: [kept, dropped], startingOffsets: 'latest' },
  })
  await first.ssc.start()
  await first.driver.next()
  await produce(client, dropped, 0, 3, 2)
  await first.driver.next()
  await first.ssc.stop()
  assert.deepEqual(first.seen.at(-1)?.values, values(0, 3, 5))

  await produce(client, dropped, 0, 5, 2)
  const without = await run([kept])
  assert.deepEqual(without.batch.offsetRanges.map(String), [`${kept}-0 [2, 2)`])
  const plan = JSON.parse(await readFile(join(dir, 'offsets', String(without.batch.id)), 'utf8'))
  assert.deepEqual(plan.inputs['direct-kafka-0'].plan.parked, [{ topic: dropped, partition: 0, offset: '5' }])

  await produce(client, dropped, 0, 7, 1)
  const back = await run([kept, dropped])
  assert.deepEqual(back.batch.offsetRanges.map(String), [`${dropped}-0 [5, 8)`, `${kept}-0 [2, 2)`].sort())
  assert.deepEqual(back.values, values(0, 5, 8))
})

test('two contexts in one process each name their inputs alike and restore their own rate state', async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions: 2 })
  await produce(client, topic, 0, 0, 400)
  await produce(client, topic, 1, 0, 400)
  const dirs = [tempDir(t, 'checkpoint'), tempDir(t, 'checkpoint')]
  const stream = { subscribe: [topic], backpressure: { enabled: true, initialRate: 500 } }
  const jobs = dirs.map((checkpoint, i) => valueJob({ appName: `rates-${i}`, checkpoint, stream }))
  for (const job of jobs) await job.ssc.start()
  for (const job of jobs) await job.driver.run(4)
  for (const job of jobs) await job.ssc.stop()
  assert.deepEqual(
    jobs.map((job) => job.stream.name),
    ['direct-kafka-0', 'direct-kafka-0'],
  )
  const saved = await Promise.all(
    dirs.map(async (dir) => {
      const entry = JSON.parse(await readFile(join(dir, 'offsets', '3'), 'utf8'))
      return entry.inputs['direct-kafka-0'].state.latestRate as number
    }),
  )
  assert.ok(saved.every((rate) => typeof rate === 'number' && rate > 0))

  // Restarted in the other order, in the same process: each finds its own state.
  const restarted = [1, 0].map((i) => ({
    i,
    job: valueJob({ appName: `rates-${i}`, checkpoint: dirs[i]!, stream }),
  }))
  const rates: number[] = []
  for (const { i, job } of restarted) {
    await job.ssc.start()
    rates[i] = job.stream.rateLimit!
    await job.ssc.stop()
  }
  assert.deepEqual(rates, saved)
})

test('progress: per partition from, until, latest offset and lag after the batch, and the rate limit in force', async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions: 2 })
  await produce(client, topic, 0, 0, 50)
  await produce(client, topic, 1, 0, 30)
  const job = valueJob({
    appName: 'lag',
    checkpoint: tempDir(t, 'checkpoint'),
    stream: { subscribe: [topic], maxRatePerPartition: 100 }, // 10 per partition per 100 ms batch
  })
  await job.ssc.start()
  const info = await job.driver.next()
  await job.ssc.stop()
  const latest = await client.listOffsets(
    [
      { topic, partition: 0 },
      { topic, partition: 1 },
    ],
    'lastStable',
  )
  const [source] = info.progress.sources
  assert.equal(source?.rateLimit, 200)
  assert.equal(source.description, `${topic}-0 [0, 10) ${topic}-1 [0, 10)`)
  assert.deepEqual(
    source.partitions,
    latest.map((l) => ({
      topic,
      partition: l.partition,
      fromOffset: '0',
      untilOffset: '10',
      latestOffset: String(l.offset),
      lag: String(l.offset - 10n),
      records: 10,
    })),
  )
  assert.deepEqual(
    source.partitions.map((p) => p.lag),
    ['40', '20'],
  )
})
