// The receiver stream in one process against a real broker: what each batch gets, the rate
// limit, backpressure, recovery from the write-ahead log, cleanup, and a graceful stop.
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { KafkaClient } from '../../../src/kafka/client.ts'
import type { KafkaRecord } from '../../../src/kafka/records.ts'
import { PidRateEstimator } from '../../../src/scheduler/pid-rate-estimator.ts'
import { PID_DEFAULTS } from '../../../src/scheduler/rate-control-options.ts'
import { RateController } from '../../../src/scheduler/rate-controller.ts'
import type { ReceivedBlockRdd } from '../../../src/source/receiver/received-block-rdd.ts'
import { createTestTopic, numberedRecords, testClient } from '../../helpers/kafka.ts'
import { tempDir } from '../../helpers/temp-dir.ts'
import { leaveBlocksInLog } from './leave-blocks.ts'
import { newGroup, receiverJob, segments, valuesOf } from './support.ts'

const partitions = 2

function expectedValues(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `v${i}`).sort()
}

async function groupEnds(client: KafkaClient, group: string): Promise<string[]> {
  return (await client.groupOffsets(group)).map((o) => `${o.topic}-${o.partition}@${o.offset}`).sort()
}

test('with the write-ahead log every record is processed once; each batch takes the blocks cut up to its time, one task per block', {
  timeout: 120_000,
}, async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions })
  const total = 3_000
  await client.produce(numberedRecords(topic, total, partitions))
  const group = newGroup()
  const checkpoint = tempDir(t, 'receiver')
  const job = receiverJob({ topic, groupId: group, checkpoint, writeAheadLog: true, receiverMaxRate: 3_000 })
  const seen: string[] = []
  let previousBatchTime = Number.NEGATIVE_INFINITY
  let blocksSeen = 0
  job.stream.foreachBatch(async (rdd, batch) => {
    const { blocks } = rdd as ReceivedBlockRdd<string, string>
    assert.equal(rdd.numPartitions, blocks.length, 'one partition per block')
    for (const block of blocks) {
      assert.ok(
        block.time <= batch.time,
        `block ${block.id} was cut at ${block.time}, after batch time ${batch.time}`,
      )
      assert.ok(block.time > previousBatchTime, `block ${block.id} belongs to an earlier batch`)
      assert.ok(block.wal !== undefined, 'a block in reliable mode is in the write-ahead log')
      assert.equal(block.receiver, job.stream.receiverId)
    }
    previousBatchTime = batch.time
    blocksSeen += blocks.length
    const records = await rdd.collect()
    assert.equal(
      records.length,
      await rdd.count(),
      'count() (from the block descriptions) matches what is read',
    )
    seen.push(...valuesOf(records))
    if (seen.length >= total) void job.ssc.stop()
  })
  await job.ssc.start()
  await job.ssc.awaitTermination()
  assert.deepEqual(seen.sort(), expectedValues(total))
  assert.ok(blocksSeen > 1, 'the records arrived in several blocks')
  assert.deepEqual(await groupEnds(client, group), [`${topic}-0@1500`, `${topic}-1@1500`])
  assert.equal(job.stream.stats.receivedRecords, total)
})

test('receiverMaxRate holds: the receiver never takes in more than rate × elapsed time plus one block interval of records', {
  timeout: 120_000,
}, async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions })
  await client.produce(numberedRecords(topic, 20_000, partitions))
  const rate = 2_000
  const job = receiverJob({ topic, groupId: newGroup(), receiverMaxRate: rate, blockInterval: 100 })
  let checks = 0
  let startedAt = 0
  job.stream.foreachBatch(async () => {
    // A graceful stop takes in what the consumer had already fetched: only check before it.
    if (checks === 12) return
    // An upper bound holds however slow the machine is: a slow one only receives less.
    const elapsed = Date.now() - startedAt
    const received = job.stream.stats.receivedRecords
    assert.ok(
      received <= (rate * elapsed) / 1000 + rate * 0.1 + 1,
      `received ${received} records in ${elapsed} ms at a limit of ${rate}/s`,
    )
    if (++checks === 12) void job.ssc.stop()
  })
  startedAt = Date.now()
  await job.ssc.start()
  await job.ssc.awaitTermination()
  assert.equal(job.stream.rateLimit, rate)
  assert.ok(job.stream.stats.receivedRecords > 0)
})

test("backpressure sets the receiver's rate from the direct stream's PID estimator, batch by batch", {
  timeout: 120_000,
}, async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions })
  await client.produce(numberedRecords(topic, 20_000, partitions))
  const job = receiverJob({
    topic,
    groupId: newGroup(),
    batchInterval: 200,
    backpressure: { enabled: true, initialRate: 2_000 },
  })
  const rates: (number | undefined)[] = []
  job.stream.foreachBatch(async (rdd) => {
    await rdd.count()
    await sleep(300) // slower than the batch interval: the estimator must lower the rate
  })
  job.ssc.addListener({
    onBatchCompleted: (info) => {
      rates.push(job.stream.rateLimit)
      if (info.id === 8) void job.ssc.stop()
    },
  })
  await job.ssc.start()
  await job.ssc.awaitTermination()
  // The same estimator, fed the same batches, reaches the same rates.
  const reference = new RateController(new PidRateEstimator(200, PID_DEFAULTS), 2_000)
  const expected = job.infos.map((info) => {
    const own = info.progress.sources[0]!
    const rate = reference.onBatchCompleted({
      processingEndTime: info.startedAt + info.processingTime,
      numRecords: own.numInputRecords,
      processingDelay: info.processingTime,
      schedulingDelay: info.schedulingDelay,
    })
    return rate === undefined ? reference.latestRate : rate
  })
  assert.deepEqual(rates, expected)
  assert.ok(rates.at(-1)! < 2_000, `the rate went down from 2000 to ${rates.at(-1)}`)
  for (const [i, info] of job.infos.entries()) {
    if (i > 0)
      assert.equal(
        info.progress.sources[0]!.rateLimit,
        rates[i - 1],
        `batch ${info.id} was planned at the rate then in force`,
      )
  }
})

test('after a stop that abandoned its batch, a restart reads the unprocessed blocks back from the write-ahead log', {
  timeout: 180_000,
}, async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions })
  const checkpoint = tempDir(t, 'receiver')
  const group = newGroup()
  const total = 2_000
  await leaveBlocksInLog({ client, topic, group, checkpoint, total })
  // Kafka will not deliver them again: the group committed every block as it was logged.
  assert.deepEqual(await groupEnds(client, group), [`${topic}-0@1000`, `${topic}-1@1000`])

  const again = receiverJob({ topic, groupId: group, checkpoint, writeAheadLog: true })
  const seen: string[] = []
  again.stream.foreachBatch(async (rdd) => {
    seen.push(...valuesOf(await rdd.collect()))
  })
  again.ssc.addListener({
    onBatchCompleted: () => {
      if (seen.length >= total) void again.ssc.stop()
    },
  })
  await again.ssc.start()
  assert.equal(again.stream.recovery.redeliveredRecords, 0, 'the stopping receiver committed what it logged')
  await again.ssc.awaitTermination()
  assert.deepEqual(seen.sort(), expectedValues(total), 'every record once, none twice')
  assert.equal(again.stream.stats.receivedRecords, 0, 'nothing came from Kafka: all of it from the log')
  assert.equal(again.infos[0]?.replay, true, 'the abandoned batch is re-run first')
})

test('old write-ahead log segments are deleted once their batches commit', {
  timeout: 120_000,
}, async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions })
  const total = 4_000
  await client.produce(numberedRecords(topic, total, partitions))
  const checkpoint = tempDir(t, 'receiver')
  const job = receiverJob({
    topic,
    groupId: newGroup(),
    checkpoint,
    receiverMaxRate: 2_000,
    writeAheadLog: { rollInterval: 100 },
  })
  let seen = 0
  let mostData = 0
  job.stream.foreachBatch(async (rdd) => {
    seen += await rdd.count()
    mostData = Math.max(mostData, segments(checkpoint, 'data').length)
    if (seen >= total) void job.ssc.stop()
  })
  await job.ssc.start()
  await job.ssc.awaitTermination()
  const data = segments(checkpoint, 'data')
  const metadata = segments(checkpoint, 'metadata')
  const newest = Number(/(\d+)/.exec(data.at(-1)!)![1])
  assert.ok(newest >= 10, `the data log rolled about every 100 ms (${newest} segments started)`)
  assert.ok(data.length <= 3, `data segments left: ${data.join(', ')}`)
  assert.ok(metadata.length <= 3, `tracker segments left: ${metadata.join(', ')}`)
  for (const log of ['data', 'metadata'] as const) {
    const first = join(checkpoint, 'receivers', 'kafka-receiver-0', log, 'segment-000000000001.wal')
    assert.ok(!existsSync(first), `${log} segment 1 is deleted`)
  }
  assert.ok(mostData < newest, 'segments were deleted while the stream ran, not only at the end')
})

test('without the write-ahead log, a graceful stop still processes every record the receiver took in', {
  timeout: 120_000,
}, async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions })
  const total = 5_000
  await client.produce(numberedRecords(topic, total, partitions))
  const group = newGroup()
  const job = receiverJob({ topic, groupId: group, receiverMaxRate: 2_500, autoCommitInterval: 50 })
  const seen: KafkaRecord<string, string>[] = []
  job.stream.foreachBatch(async (rdd, batch) => {
    seen.push(...(await rdd.collect()))
    if (batch.id === 3) void job.ssc.stop()
  })
  await job.ssc.start()
  await job.ssc.awaitTermination()
  // The consumer auto-committed what it fetched; the stop processed all of that, so nothing
  // the group moved past is missing.
  const committed = new Map((await client.groupOffsets(group)).map((o) => [o.partition, o.offset]))
  for (let partition = 0; partition < partitions; partition++) {
    const mine = seen.filter((r) => r.partition === partition).map((r) => r.offset)
    const until = committed.get(partition) ?? 0n
    assert.equal(
      mine.length,
      Number(until),
      `partition ${partition}: every offset below ${until} processed once`,
    )
    assert.deepEqual(
      [...mine].sort((a, b) => (a < b ? -1 : 1)),
      Array.from({ length: Number(until) }, (_, i) => BigInt(i)),
    )
  }
  assert.ok(seen.length > 0)
})
