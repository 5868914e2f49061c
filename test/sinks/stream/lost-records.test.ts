import assert from 'node:assert/strict'
import { type TestContext, test } from 'node:test'
import type { KafkaClient } from '../../../src/kafka/client.ts'
import { decodeLostRecords } from '../../../src/sinks/kafka-lost-records.ts'
import { type ChildJob, finishRun, fixtures, jobStarter, rangesOf } from '../../helpers/child-job.ts'
import { createTestTopic, testClient } from '../../helpers/kafka.ts'
import { tempDir } from '../../helpers/temp-dir.ts'
import { countWords, endOffsets, linesIn, produceLines, wordLines } from '../../helpers/words.ts'
import { engines } from '../sql/fixtures.ts'
import { kafkaJobWorld } from './kafka-job.ts'
import { sqlJobWorld } from './sql-job.ts'

// Retention deletes records the running job has not read yet; with failOnDataLoss: false the
// stream skips them and hands them to the sink as batch.lostRanges. The sink must advance over
// them (not stop with SINK_OFFSET_MISMATCH), record them, and end with the exact counts of
// every record that was not deleted.

const partitions = 2
const lineCount = 8000 // 4,000 per partition: batches of 500 per partition
const deletedBefore = 3000n

interface LossWorld {
  env(topic: string, extra: Record<string, string>): Record<string, string>
  counts(): Promise<Map<string, number>>
  stored(): Promise<Record<string, Record<number, bigint>>>
  /** Per partition, the offsets the sink recorded as lost, merged into [from, until) ranges. */
  lost(topic: string): Promise<Record<number, [bigint, bigint][]>>
}

async function lossWorld(
  t: TestContext,
  sink: 'sqlite' | 'postgres' | 'kafka',
  client: KafkaClient,
): Promise<LossWorld> {
  if (sink === 'kafka') {
    const world = await kafkaJobWorld(t, client)
    return {
      env: world.env,
      counts: () => world.counts('read_committed'),
      stored: world.stored,
      lost: async () => {
        const lost: Record<number, [bigint, bigint][]> = {}
        for (const o of await client.groupOffsets(`sluice-${world.app}`)) {
          const records = decodeLostRecords(o, o.metadata)
          // The metadata keeps the total and the latest range: here one loss, so the range is the total.
          if (records)
            lost[o.partition] = [[records.last.untilOffset - records.records, records.last.untilOffset]]
        }
        return lost
      },
    }
  }
  const world = await sqlJobWorld(t, sink)
  return {
    env: world.env,
    counts: world.counts,
    stored: world.stored,
    lost: async (topic) => {
      const rows = await world.rows(
        `SELECT "partition", CAST(from_offset AS TEXT) AS f, CAST(until_offset AS TEXT) AS u FROM "${world.offsetsTable}_lost" ` +
          'WHERE app = $1 AND topic = $2 ORDER BY "partition", from_offset',
        [world.app, topic],
      )
      const lost: Record<number, [bigint, bigint][]> = {}
      for (const row of rows) {
        lost[Number(row.partition)] ??= []
        const ranges = lost[Number(row.partition)]!
        const [from, until] = [BigInt(String(row.f)), BigInt(String(row.u))]
        const last = ranges.at(-1)
        if (last !== undefined && last[1] === from) last[1] = until
        else ranges.push([from, until])
      }
      return lost
    },
  }
}

for (const sink of [...engines, 'kafka'] as const) {
  test(`${sink}: records deleted by retention under a running job are skipped, recorded by the sink, and the rest counted exactly`, {
    timeout: 300_000,
  }, async (t) => {
    const start = jobStarter(t, fixtures.sinkWordCount)
    const client = testClient(t)
    const topic = await createTestTopic(t, client, { partitions })
    const world = await lossWorld(t, sink, client)
    const lines = wordLines(lineCount)
    await produceLines(client, topic, partitions, lines)
    const ends = endOffsets(topic, partitions, lineCount)
    const env = world.env(topic, {
      CHECKPOINT: `${tempDir(t)}/checkpoint`,
      FAIL_ON_DATA_LOSS: 'false',
      BATCH_INTERVAL: '200',
      MAX_RATE: '2500', // 500 records per partition per batch
    })

    const job: ChildJob = start({ ...env, PAUSE_AT: 'after-commit:1', PAUSE_MODE: 'resume' })
    await job.waitFor('paused after-commit:1')
    const readUntil = rangesOf(job, 1).map((r) => r.untilOffset)
    assert.ok(readUntil.every((u) => u < deletedBefore))
    // Retention (here deleteRecords) removes everything below 3000 while the job waits.
    await client.deleteRecords(
      Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: deletedBefore })),
    )
    job.resume()
    await finishRun(job)

    assert.ok(!job.lines.some((l) => l.startsWith('stream-error')))
    assert.deepEqual(await world.stored(), ends)
    const kept = readUntil.flatMap((until, partition) => [
      { partition, fromOffset: 0n, untilOffset: until },
      { partition, fromOffset: deletedBefore, untilOffset: ends[topic]![partition]! },
    ])
    assert.deepEqual(await world.counts(), countWords(linesIn(lines, partitions, kept)))
    assert.deepEqual(
      await world.lost(topic),
      Object.fromEntries(readUntil.map((until, partition) => [partition, [[until, deletedBefore]]])),
    )
  })
}
