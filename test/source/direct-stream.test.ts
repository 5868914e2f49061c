import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { silentLogger } from '../../src/core/logger.ts'
import { createDirectStream } from '../../src/source/direct-stream.ts'
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

test('a direct stream reads every record exactly once across batches, with exact ranges', async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions: 3 })
  await client.produce(Array.from({ length: 300 }, (_, i) => ({ topic, partition: i % 3, value: `v${i}` })))

  const ssc = new StreamingContext({ appName: 'read-all', batchInterval: 100, logger: silentLogger })
  const stream = createDirectStream<string, string>(ssc, {
    brokers: bootstrap(),
    subscribe: [topic],
    startingOffsets: 'earliest',
    deserializers: { value: 'string' },
    maxRatePerPartition: 300, // 30 records per partition per 100 ms batch
  })
  const seen: string[] = []
  const infos: BatchInfo[] = []
  ssc.addListener({ onBatchCompleted: (info) => infos.push(info) })
  stream
    .map((r) => r.value!)
    .foreachBatch(async (rdd) => {
      seen.push(...(await rdd.collect()))
    })
  await ssc.start()
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
    const ssc = new StreamingContext({
      appName: 'resume',
      batchInterval: 50,
      checkpoint: dir,
      logger: silentLogger,
    })
    const stream = createDirectStream<string, string>(ssc, {
      brokers: bootstrap(),
      subscribe: [topic],
      startingOffsets: 'earliest',
      deserializers: { value: 'string' },
    })
    const seen: string[] = []
    stream
      .map((r) => transform(r.value!))
      .foreachBatch(async (rdd) => {
        seen.push(...(await rdd.collect()))
      })
    await ssc.start()
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
