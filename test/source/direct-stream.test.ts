import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { ErrorCodes, type SluiceError } from '../../src/core/errors.ts'
import { silentLogger } from '../../src/core/logger.ts'
import { createDirectStream, type DirectStreamOptions } from '../../src/source/direct-stream.ts'
import type { BatchInfo } from '../../src/stream/batch.ts'
import { StreamingContext } from '../../src/stream/streaming-context.ts'
import { bootstrap, createTestTopic, testClient } from '../helpers/kafka.ts'

function checkpointDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-ckpt-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Resolves once `predicate` holds, polling; fails after `ms`. */
async function eventually(predicate: () => boolean, ms = 30_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

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

/** Starts a stream that collects every record's (mapped) string value and every BatchInfo. */
async function startValueStream(options: ValueStreamOptions) {
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
  ssc.addListener({ onBatchCompleted: (info) => infos.push(info) })
  const map = options.map ?? ((value: string) => value)
  stream
    .map((r) => map(r.value!))
    .foreachBatch(async (rdd) => {
      seen.push(...(await rdd.collect()))
    })
  await ssc.start()
  return { ssc, seen, infos }
}

test('a direct stream reads every record exactly once across batches, with exact ranges', async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions: 3 })
  await client.produce(Array.from({ length: 300 }, (_, i) => ({ topic, partition: i % 3, value: `v${i}` })))

  const { ssc, seen, infos } = await startValueStream({
    appName: 'read-all',
    topic,
    batchInterval: 100,
    stream: { maxRatePerPartition: 300 }, // 30 records per partition per 100 ms batch
  })
  await eventually(() => seen.length >= 300, 30_000, 'all records')
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
  const dir = checkpointDir(t)
  await client.produce(Array.from({ length: 40 }, (_, i) => ({ topic, partition: i % 2, value: `a${i}` })))

  const run = async (transform: (v: string) => string, expected: number) => {
    const { ssc, seen } = await startValueStream({
      appName: 'resume',
      topic,
      checkpoint: dir,
      map: transform,
    })
    await eventually(() => seen.length >= expected, 30_000, `${expected} records`)
    await sleep(200) // a few more (empty) batches
    await ssc.stop()
    return seen
  }
  const first = await run((v) => v.toUpperCase(), 40)
  assert.equal(first.length, 40)
  assert.ok(first.every((v) => v.startsWith('A')))

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
  await eventually(() => seen.includes('a-0:a0'), 20_000, 'the first topic')

  await client.createTopics([{ name: `${prefix}-b`, partitions: 1 }])
  await client.produce([{ topic: `${prefix}-b`, partition: 0, value: 'b0' }])
  await eventually(() => seen.includes('b-0:b0'), 20_000, 'the topic created while running')

  await client.createPartitions(first, 2)
  await client.produce([{ topic: first, partition: 1, value: 'a1' }])
  await eventually(() => seen.includes('a-1:a1'), 20_000, 'the added partition')
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
    const { ssc, seen } = await startValueStream({ appName: 'starting', topic, stream: { startingOffsets } })
    if (produceAfterStart) await client.produce([{ topic, partition: 0, value: 'new' }])
    await eventually(() => seen.length >= expected, 20_000, `${expected} records`)
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
  const dir = checkpointDir(t)
  const run = (failOnDataLoss: boolean | undefined) =>
    startValueStream({
      appName: 'loss',
      topic,
      checkpoint: dir,
      stream: failOnDataLoss === undefined ? {} : { failOnDataLoss },
    })
  await client.produce(Array.from({ length: 5 }, (_, i) => ({ topic, partition: 0, value: `v${i}` })))
  const first = await run(undefined)
  await eventually(() => first.seen.length === 5, 20_000, 'the first 5')
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
  await eventually(() => lenient.seen.length === 3, 20_000, 'the 3 left')
  await lenient.ssc.stop()
  assert.deepEqual(lenient.seen, ['v12', 'v13', 'v14'])
  assert.equal(
    lenient.infos.reduce((sum, i) => sum + i.lostRecords, 0),
    7,
  )
})

test('commitAsync commits until-offsets to the group after the batch, for lag tools only', async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions: 2 })
  const groupId = `lag-${topic}`
  await client.produce(Array.from({ length: 8 }, (_, i) => ({ topic, partition: i % 2, value: `v${i}` })))
  const ssc = new StreamingContext({ appName: 'commit', batchInterval: 50, logger: silentLogger })
  const stream = createDirectStream(ssc, {
    brokers: bootstrap(),
    subscribe: [topic],
    startingOffsets: 'earliest',
    groupId,
  })
  let total = 0
  stream.foreachBatch(async (rdd, batch) => {
    total += await rdd.count()
    stream.commitAsync(batch.offsetRanges)
  })
  await ssc.start()
  await eventually(() => total === 8, 20_000, 'all 8 records')
  await sleep(200)
  await ssc.stop()
  const committed = await client.groupOffsets(groupId, [
    { topic, partition: 0 },
    { topic, partition: 1 },
  ])
  assert.deepEqual(committed.map((c) => [c.partition, c.offset]).sort(), [
    [0, 4n],
    [1, 4n],
  ])
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

test('with backpressure and a slow output, batch sizes converge so processing takes about one interval', async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions: 2 })
  for (let i = 0; i < 100_000; i += 10_000) {
    await client.produce(
      Array.from({ length: 10_000 }, (_, j) => ({ topic, partition: (i + j) % 2, value: 'x' })),
    )
  }
  const interval = 200
  const perRecordMs = 0.05 // the output handles 20,000 records/s: 4,000 per interval
  const ssc = new StreamingContext({ appName: 'backpressure', batchInterval: interval, logger: silentLogger })
  const stream = createDirectStream(ssc, {
    brokers: bootstrap(),
    subscribe: [topic],
    startingOffsets: 'earliest',
    backpressure: { enabled: true, initialRate: 1000 },
  })
  const infos: BatchInfo[] = []
  ssc.addListener({ onBatchCompleted: (info) => infos.push(info) })
  stream.foreachBatch(async (rdd) => {
    await sleep((await rdd.count()) * perRecordMs)
  })
  await ssc.start()
  await eventually(() => infos.length >= 14, 60_000, '14 batches')
  await ssc.stop()
  t.diagnostic(`records per batch: ${infos.map((i) => i.records).join(', ')}`)
  t.diagnostic(`processing ms: ${infos.map((i) => i.processingTime).join(', ')}`)
  assert.equal(infos[0]!.records, 200, 'initialRate bounds the first batch: 1,000/s over 200 ms')
  // After the estimator settles, each batch is sized to what the output can do in one interval.
  for (const info of infos.slice(8)) {
    assert.ok(info.records >= 2_000 && info.records <= 6_000, `batch ${info.id} has ${info.records} records`)
    assert.ok(
      info.processingTime >= 100 && info.processingTime <= 400,
      `batch ${info.id} took ${info.processingTime} ms`,
    )
  }
})
