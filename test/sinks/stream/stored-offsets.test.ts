import assert from 'node:assert/strict'
import { type TestContext, test } from 'node:test'
import {
  finishRun,
  fixtures,
  jobStarter,
  outcomes,
  rangesOf,
  storedOffsetsOf,
  untilOffsetsOf,
} from '../../helpers/child-job.ts'
import { createTestTopic, testClient } from '../../helpers/kafka.ts'
import { countWords, endOffsets, produceLines, wordLines } from '../../helpers/words.ts'
import { kafkaJobWorld } from './kafka-job.ts'
import { sqlJobWorld } from './sql-job.ts'

const partitions = 4
const lineCount = 32_000 // 8,000 per partition
const producedFirst = 24_000 // the rest arrives only after the restarts
const rate = { BATCH_INTERVAL: '200', MAX_RATE: '5000' } // 1,000 records per partition per batch

/** What the test needs of a sink's world: the job's environment, its output and its offsets. */
interface JobWorld {
  env(topic: string, extra?: Record<string, string>): Record<string, string>
  counts(): Promise<Map<string, number>>
  stored(): Promise<Record<string, Record<number, bigint>>>
}

async function resumesFromStoredOffsets(t: TestContext, makeWorld: (topic: string) => Promise<JobWorld>) {
  const start = jobStarter(t, fixtures.sinkWordCount)
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions })
  const world = await makeWorld(topic)
  const lines = wordLines(lineCount, 17)
  await produceLines(client, topic, partitions, lines.slice(0, producedFirst))
  const env = world.env(topic, rate) // no CHECKPOINT: the sink's offsets are all there is

  // Killed right after the sink committed batch 2: nothing else remembers that batch.
  const first = start({ ...env, PAUSE_AT: 'after-commit:2' })
  await first.waitFor('paused after-commit:2')
  await first.kill()

  // The next run starts where batch 2 ended; without a checkpoint its batches count from 0 and
  // are never replays. Killed inside the transaction of its batch 1, which is rolled back.
  const second = start({ ...env, PAUSE_AT: 'in-transaction:1' })
  assert.deepEqual(await storedOffsetsOf(second), untilOffsetsOf(rangesOf(first, 2)))
  await second.waitFor('paused in-transaction:1')
  assert.deepEqual(
    rangesOf(second, 0).map((r) => r.fromOffset),
    rangesOf(first, 2).map((r) => r.untilOffset),
  )
  assert.deepEqual(outcomes(second), ['outcome:0:first:applied'])
  await second.kill()

  // More records arrive while nothing runs; the last run starts at batch 1 of the previous one.
  await produceLines(client, topic, partitions, lines.slice(producedFirst), producedFirst)
  const last = start(env)
  assert.deepEqual(await storedOffsetsOf(last), untilOffsetsOf(rangesOf(second, 0)))
  await last.waitFor('committed:0')
  assert.deepEqual(rangesOf(last, 0), rangesOf(second, 1))

  const ends = endOffsets(topic, partitions, lineCount)
  await finishRun(last)
  assert.deepEqual(await world.counts(), countWords(lines))
  assert.deepEqual(await world.stored(), ends)
}

for (const engine of ['sqlite', 'postgres'] as const) {
  test(`${engine}: without a checkpoint the stream resumes from storedOffsets after each restart`, {
    timeout: 120_000,
  }, async (t) => {
    await resumesFromStoredOffsets(t, () => sqlJobWorld(t, engine))
  })
}

test('kafka: without a checkpoint the stream resumes from the group offsets after each restart', {
  timeout: 120_000,
}, async (t) => {
  await resumesFromStoredOffsets(t, () => kafkaJobWorld(t, testClient(t)))
})
