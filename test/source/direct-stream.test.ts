import assert from 'node:assert/strict'
import { type TestContext, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { ErrorCodes, type SluiceError } from '../../src/core/errors.ts'
import { silentLogger } from '../../src/core/logger.ts'
import { createDirectStream, type DirectStreamOptions } from '../../src/source/direct-stream.ts'
import type { BatchInfo } from '../../src/stream/batch.ts'
import { StreamingContext } from '../../src/stream/streaming-context.ts'
import { eventually } from '../helpers/eventually.ts'
import { bootstrap, createTestTopic, testClient } from '../helpers/kafka.ts'
import { tempDir } from '../helpers/temp-dir.ts'

interface ValueStreamOptions {
  readonly appName: string
  readonly topic: string
  readonly checkpoint?: string
  readonly batchInterval?: number
  /** What each record's value is turned into before it is collected. */
  readonly map?: (value: string) => string
  /** More direct stream options (startingOffsets defaults to 'earliest'). */
  readonly stream?: Partial<DirectStreamOptions<string, string>>
}

/**
 * Starts a stream that collects every record's (mapped) string value and every BatchInfo;
 * it is stopped when the test ends. `collected(n)` waits for n values, and fails at once with
 * the stream's error if the stream stopped on one.
 */
async function startValueStream(t: TestContext, options: ValueStreamOptions) {
  const ssc = new StreamingContext({
    appName: options.appName,
    batchInterval: options.batchInterval ?? 50,
    logger: silentLogger,
    ...(options.checkpoint ? { checkpoint: options.checkpoint } : {}),
  })
  const stream = createDirectStream<string, string>(ssc, {
    brokers: bootstrap(),
    subscribe: [options.topic],
    startingOffsets: 'earliest',
    deserializers: { value: 'string' },
    ...options.stream,
  })
  const seen: string[] = []
  const infos: BatchInfo[] = []
  let failure: unknown
  ssc.addListener({
    onBatchCompleted: (info) => infos.push(info),
    onStreamingStopped: (event) => {
      failure = event.error
    },
  })
  const map = options.map ?? ((value: string) => value)
  stream
    .map((r) => map(r.value!))
    .foreachBatch(async (rdd) => {
      seen.push(...(await rdd.collect()))
    })
  await ssc.start()
  t.after(() => ssc.stop())
  const collected = (count: number, timeoutMs = 30_000) =>
    eventually(
      () => {
        if (failure !== undefined) throw failure
        return seen.length >= count
      },
      `${count} records`,
      { timeoutMs },
    )
  return { ssc, seen, infos, collected }
}

test('a direct stream reads every record exactly once across batches, with exact ranges', async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions: 3 })
  await client.produce(Array.from({ length: 300 }, (_, i) => ({ topic, partition: i % 3, value: `v${i}` })))

  const { ssc, seen, infos, collected } = await startValueStream(t, {
    appName: 'read-all',
    topic,
    batchInterval: 100,
    stream: { maxRatePerPartition: 300 }, // 30 records per partition per 100 ms batch
  })
  await collected(300)
  await ssc.stop({ graceful: true })
  await ssc.awaitTermination()

  assert.deepEqual([...seen].sort(), Array.from({ length: 300 }, (_, i) => `v${i}`).sort())
  // Batches tile each partition's offsets with no gap or overlap, and no range exceeds 30.
  for (let p = 0; p < 3; p++) {
    const ranges = infos.flatMap((i) => i.offsetRanges).filter((r) => r.partition === p && !r.isEmpty)
    let expected = 0n
    for (const r of ranges) {
      assert.equal(r.fromOffset, expected)
      assert.ok(r.count <= 30, `range ${r} has at most 30 records`)
      expected = r.untilOffset
    }
    assert.equal(expected, 100n)
  }
  assert.deepEqual(
    infos.map((i) => i.id),
    infos.map((_, i) => i),
  )
})

test('restart with the same checkpoint resumes after the last committed batch, even with changed code', async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions: 2 })
  const dir = tempDir(t)
  await client.produce(Array.from({ length: 40 }, (_, i) => ({ topic, partition: i % 2, value: `a${i}` })))

  const run = async (transform: (v: string) => string, expected: number) => {
    const { ssc, seen, collected } = await startValueStream(t, {
      appName: 'resume',
      topic,
      checkpoint: dir,
      map: transform,
    })
    await collected(expected)
    await sleep(200) // a few more (empty) batches
    await ssc.stop()
    return seen
  }
  const first = await run((v) => v.toUpperCase(), 40)
  assert.deepEqual([...first].sort(), Array.from({ length: 40 }, (_, i) => `A${i}`).sort())

  await client.produce(Array.from({ length: 10 }, (_, i) => ({ topic, partition: i % 2, value: `b${i}` })))
  const second = await run((v) => `new:${v}`, 10)
  assert.deepEqual([...second].sort(), Array.from({ length: 10 }, (_, i) => `new:b${i}`).sort())
})

test('subscribePattern picks up a topic created while running, and partitions added to a topic', async (t) => {
  const client = testClient(t)
  const prefix = `pattern-${Date.now().toString(36)}`
  const first = `${prefix}-a`
  await client.createTopics([{ name: first, partitions: 1 }])
  t.after(() => client.deleteTopics([first, `${prefix}-b`]).catch(() => {}))
  await client.produce([{ topic: first, partition: 0, value: 'a0' }])

  const ssc = new StreamingContext({ appName: 'pattern', batchInterval: 50, logger: silentLogger })
  const stream = createDirectStream<string, string>(ssc, {
    brokers: bootstrap(),
    subscribePattern: new RegExp(`^${prefix}-`),
    startingOffsets: 'earliest',
    deserializers: { value: 'string' },
  })
  const seen: string[] = []
  stream
    .map((r) => `${r.topic.slice(prefix.length + 1)}-${r.partition}:${r.value}`)
    .foreachBatch(async (rdd) => {
      seen.push(...(await rdd.collect()))
    })
  await ssc.start()
  t.after(() => ssc.stop())
  await eventually(() => seen.includes('a-0:a0'), 'the first topic', { timeoutMs: 20_000 })

  await client.createTopics([{ name: `${prefix}-b`, partitions: 1 }])
  await client.produce([{ topic: `${prefix}-b`, partition: 0, value: 'b0' }])
  await eventually(() => seen.includes('b-0:b0'), 'the topic created while running', { timeoutMs: 20_000 })

  await client.createPartitions(first, 2)
  await client.produce([{ topic: first, partition: 1, value: 'a1' }])
  await eventually(() => seen.includes('a-1:a1'), 'the added partition', { timeoutMs: 20_000 })
  assert.deepEqual([...seen].sort(), ['a-0:a0', 'a-1:a1', 'b-0:b0'])
})

test('startingOffsets: latest skips the backlog, explicit offsets and timestamps start where told', async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions: 2 })
  const base = 1_700_000_000_000
  await client.produce(
    Array.from({ length: 10 }, (_, i) => ({
      topic,
      partition: i % 2,
      value: `old${i}`,
      timestamp: base + i,
    })),
  )
  const firstValues = async (startingOffsets: never, expected: number, produceAfterStart = false) => {
    const { ssc, seen, collected } = await startValueStream(t, {
      appName: 'starting',
      topic,
      stream: { startingOffsets },
    })
    if (produceAfterStart) await client.produce([{ topic, partition: 0, value: 'new' }])
    await collected(expected)
    await sleep(150)
    await ssc.stop()
    return seen.sort()
  }
  assert.deepEqual(await firstValues('latest' as never, 1, true), ['new'])
  assert.deepEqual(await firstValues({ [topic]: { 0: 3n, 1: '4' } } as never, 4), [
    'new',
    'old6',
    'old8',
    'old9',
  ])
  assert.deepEqual(await firstValues({ timestamp: base + 7 } as never, 4), ['new', 'old7', 'old8', 'old9'])
})

test('retention deleting unread records fails planning by default, or is skipped and counted', async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client)
  const dir = tempDir(t)
  const run = (failOnDataLoss: boolean | undefined) =>
    startValueStream(t, {
      appName: 'loss',
      topic,
      checkpoint: dir,
      stream: failOnDataLoss === undefined ? {} : { failOnDataLoss },
    })
  await client.produce(Array.from({ length: 5 }, (_, i) => ({ topic, partition: 0, value: `v${i}` })))
  const first = await run(undefined)
  await first.collected(5)
  await first.ssc.stop()

  // While the job is down, 10 more arrive and retention removes the first 12.
  await client.produce(Array.from({ length: 10 }, (_, i) => ({ topic, partition: 0, value: `v${5 + i}` })))
  await client.deleteRecords([{ topic, partition: 0, offset: 12n }])

  const strict = await run(undefined)
  await assert.rejects(strict.ssc.awaitTermination(), (error: SluiceError) => {
    assert.equal(error.code, ErrorCodes.OFFSET_OUT_OF_RANGE)
    assert.match(
      error.message,
      new RegExp(`records ${topic}-0 \\[5, 12\\) were deleted \\(retention\\) before the stream read them`),
    )
    return true
  })
  assert.deepEqual(strict.seen, [])

  const lenient = await run(false)
  await lenient.collected(3)
  await lenient.ssc.stop()
  assert.deepEqual(lenient.seen, ['v12', 'v13', 'v14'])
  assert.equal(
    lenient.infos.reduce((sum, i) => sum + i.lostRecords, 0),
    7,
  )
})

test('commitAsync commits until-offsets to the group after the batch, for lag tools only: restarts ignore them', async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions: 2 })
  const dir = tempDir(t)
  const groupId = `lag-${topic}`
  const values = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `v${from + i}`)
  const produce = (from: number, to: number) =>
    client.produce(values(from, to).map((value, i) => ({ topic, partition: (from + i) % 2, value })))
  const committed = async () =>
    (
      await client.groupOffsets(
        groupId,
        [0, 1].map((partition) => ({ topic, partition })),
      )
    )
      .map((c): [number, bigint] => [c.partition, c.offset])
      .sort()
  /** Runs a stream that commits each batch's ranges to the group, until it has `count` records. */
  const run = async (appName: string, count: number, checkpoint?: string) => {
    const ssc = new StreamingContext({
      appName,
      batchInterval: 50,
      logger: silentLogger,
      ...(checkpoint ? { checkpoint } : {}),
    })
    const stream = createDirectStream<string, string>(ssc, {
      brokers: bootstrap(),
      subscribe: [topic],
      startingOffsets: 'earliest',
      deserializers: { value: 'string' },
      groupId,
    })
    const seen: string[] = []
    stream.foreachBatch(async (rdd, batch) => {
      seen.push(...(await rdd.map((r) => r.value!).collect()))
      stream.commitAsync(batch.offsetRanges)
    })
    await ssc.start()
    await eventually(() => seen.length >= count, `${count} records`)
    await sleep(200) // a few more (empty) batches
    await ssc.stop()
    return seen.sort()
  }

  await produce(0, 8)
  assert.deepEqual(await run('commit', 8, dir), values(0, 8).sort())
  assert.deepEqual(await committed(), [
    [0, 4n],
    [1, 4n],
  ])

  // The group is moved past records the stream never read; 4 more records arrive.
  await client.commitGroupOffsets(
    groupId,
    [0, 1].map((partition) => ({ topic, partition, offset: 6n })),
  )
  await produce(8, 12)
  // A restart resumes from its checkpoint (offsets 4 and 4), not from the group's 6 and 6…
  assert.deepEqual(await run('commit', 4, dir), values(8, 12).sort())
  assert.deepEqual(await committed(), [
    [0, 6n],
    [1, 6n],
  ])
  // …and without a checkpoint startingOffsets decides: 'earliest' reads everything again.
  assert.deepEqual(await run('commit-fresh', 12), values(0, 12).sort())

  const noGroup = new StreamingContext({ appName: 'nogroup', batchInterval: 50, logger: silentLogger })
  const plain = createDirectStream(noGroup, { brokers: bootstrap(), subscribe: [topic] })
  assert.throws(() => plain.commitAsync([]), /option 'groupId' is required to commitAsync/)
})

test('a task that keeps failing stops the stream with an error naming batch, topic, partition and offsets', async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client)
  await client.produce(['{"ok":1}', 'broken'].map((value) => ({ topic, partition: 0, value })))
  const ssc = new StreamingContext({ appName: 'bad-record', batchInterval: 50, logger: silentLogger })
  const stream = createDirectStream(ssc, {
    brokers: bootstrap(),
    subscribe: [topic],
    startingOffsets: 'earliest',
    deserializers: { value: 'json' },
  })
  stream.foreachBatch(async (rdd) => {
    await rdd.collect()
  })
  await ssc.start()
  await assert.rejects(ssc.awaitTermination(), (error: SluiceError) => {
    assert.equal(error.code, ErrorCodes.BATCH_FAILED)
    assert.match(error.message, /^batch 0 \(time \d+\) failed in output operation #1 \(foreachBatch\): /)
    assert.ok(error.message.includes(`offset range ${topic}-0 [0, 2)`), error.message)
    assert.ok(
      error.message.includes(`could not deserialize the value of ${topic}-0 at offset 1`),
      error.message,
    )
    return true
  })
})

test('invalid direct stream options fail at construction naming the option', () => {
  const ssc = new StreamingContext({ appName: 'options', batchInterval: 50, logger: silentLogger })
  const invalid = (options: object, message: string) =>
    assert.throws(
      () => createDirectStream(ssc, { brokers: ['h:1'], ...options } as never),
      (e: SluiceError) => e.code === ErrorCodes.INVALID_OPTION && e.message === message,
    )
  const P = 'createDirectStream: '
  invalid(
    {},
    `${P}option 'subscribe' is required: give exactly one of 'subscribe', 'subscribePattern' or 'assign'`,
  )
  invalid(
    { subscribe: ['a'], assign: [{ topic: 'a', partition: 0 }] },
    `${P}option 'assign' cannot be combined with 'subscribe': give exactly one of 'subscribe', 'subscribePattern' or 'assign'`,
  )
  invalid(
    { subscribe: [] },
    `${P}option 'subscribe' must be a non-empty array of topic names, got an array (length 0)`,
  )
  invalid({ subscribePattern: 'a.*' }, `${P}option 'subscribePattern' must be a RegExp, got a string ("a.*")`)
  invalid(
    { subscribe: ['a'], startingOffsets: 'first' },
    `${P}option 'startingOffsets' must be 'earliest', 'latest', { timestamp } or { topic: { partition: offset } }, got a string ("first")`,
  )
  invalid(
    { subscribe: ['a'], startingOffsets: 'earlist' },
    `${P}option 'startingOffsets' must be 'earliest', 'latest', { timestamp } or { topic: { partition: offset } }, got a string ("earlist") — did you mean 'earliest'?`,
  )
  invalid(
    { subscribe: ['a'], maxRatePerPartition: -5 },
    `${P}option 'maxRatePerPartition' must be at least 0 (records per second, 0 = no limit), got -5`,
  )
  invalid(
    { subscribe: ['a'], failOnDataLoss: 'no' },
    `${P}option 'failOnDataLoss' must be a boolean, got a string ("no")`,
  )
  invalid(
    { subscribe: ['a'], groupId: '' },
    `${P}option 'groupId' must be a non-empty string, got a string ("")`,
  )
  invalid(
    { subscribe: ['a'], startingOffset: 'earliest' },
    `${P}unknown option 'startingOffset' — did you mean 'startingOffsets'?`,
  )
  invalid(
    { subscribe: ['a'], maxRatePerPartion: 10 },
    `${P}unknown option 'maxRatePerPartion' — did you mean 'maxRatePerPartition'?`,
  )
})

test('with backpressure, each batch is sized by the PID estimate of the batches before it, away from the initial rate', async (t) => {
  const client = testClient(t)
  const partitions = 2
  const perPartition = 50_000
  const topic = await createTestTopic(t, client, { partitions })
  for (let i = 0; i < partitions * perPartition; i += 10_000) {
    await client.produce(
      Array.from({ length: 10_000 }, (_, j) => ({ topic, partition: (i + j) % partitions, value: 'x' })),
    )
  }
  const interval = 200
  const initialRate = 1000
  const ssc = new StreamingContext({ appName: 'backpressure', batchInterval: interval, logger: silentLogger })
  const stream = createDirectStream(ssc, {
    brokers: bootstrap(),
    subscribe: [topic],
    startingOffsets: 'earliest',
    backpressure: { enabled: true, initialRate },
  })
  const infos: BatchInfo[] = []
  ssc.addListener({ onBatchCompleted: (info) => infos.push(info) })
  // A slow output (20,000 records/s at best), so that the rate has something to converge to.
  stream.foreachBatch(async (rdd) => {
    await sleep((await rdd.count()) * 0.05)
  })
  await ssc.start()
  await eventually(() => infos.length >= 12, '12 batches', { timeoutMs: 60_000 })
  await ssc.stop()
  t.diagnostic(`records per batch: ${infos.map((i) => i.records).join(', ')}`)

  // Spark's PID law with its defaults (Kp 1, Ki 0.2, Kd 0, minRate 100), fed what each batch
  // reported; the first batch that counts only calibrates. Whatever the machine's speed, the
  // next batch must be the estimate's share of every partition's lag, over one interval.
  let latest: { time: number; rate: number } | undefined
  let rate = initialRate
  const until = Array.from({ length: partitions }, () => 0)
  for (const info of infos) {
    const lags = until.map((offset) => perPartition - offset)
    const totalLag = lags.reduce((a, b) => a + b, 0)
    const expected = lags.reduce(
      (sum, lag) => sum + Math.floor((interval / 1000) * ((lag / totalLag) * rate)),
      0,
    )
    assert.equal(info.records, Math.min(expected, totalLag), `batch ${info.id}: ${rate.toFixed(1)} records/s`)
    for (const range of info.offsetRanges) until[range.partition] = Number(range.untilOffset)

    // As in Spark, the estimator sees the batch's own running time (outputs and commit) as its
    // processing delay; planning counts as scheduling delay.
    const { planning, outputs, commit } = info.progress.durationsMs
    const time = info.startedAt + info.processingTime
    const processingRate = (info.records / (outputs + commit)) * 1000
    if (latest === undefined) {
      latest = { time, rate: processingRate }
      continue
    }
    const historicalError = ((info.schedulingDelay + planning) * processingRate) / interval
    latest = {
      time,
      rate: Math.max(100, latest.rate - (latest.rate - processingRate) - 0.2 * historicalError),
    }
    rate = latest.rate
  }
  assert.deepEqual(
    infos.slice(0, 2).map((i) => i.records),
    [200, 200],
    'initialRate bounds the first two batches: 1,000/s over 200 ms',
  )
  assert.ok(rate > 2 * initialRate, `the estimate left the initial rate: ${rate.toFixed(1)} records/s`)
})
