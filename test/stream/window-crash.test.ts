import assert from 'node:assert/strict'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { test } from 'node:test'
import { fixtures, jobStarter, plannedBatches } from '../helpers/child-job.ts'
import { crashThenFinish } from '../helpers/crash-scenario.ts'
import { bootstrap, createTestTopic, testClient } from '../helpers/kafka.ts'
import { random } from '../helpers/random.ts'
import { tempDir } from '../helpers/temp-dir.ts'

const partitions = 4
const perPartition = 10_000
// 1,000 records per partition per batch (5,000/s over 200 ms): batch b reads offsets
// [1000·b, 1000·(b+1)) of every partition, so batches 0-9 hold data. Windows of 5 batches
// every 2 are emitted at batches 1, 3, 5…; the last with data is at 13.
const perBatch = 1_000
const lastBatch = 15

function windowRows(path: string): string[] {
  const db = new DatabaseSync(path, { readOnly: true })
  try {
    return db
      .prepare('SELECT batch_id, key, count FROM windows ORDER BY batch_id, key')
      .all()
      .map((row) => `${row.batch_id} ${row.key} ${row.count}`)
  } finally {
    db.close()
  }
}

test('an incremental window killed mid-window resumes with every window exactly as its records imply', {
  timeout: 600_000,
}, async (t) => {
  const start = jobStarter(t, fixtures.state)
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions })
  const dir = tempDir(t, 'window-crash')
  const next = random(11)
  const keys: string[][] = Array.from({ length: partitions }, () => [])
  const records = Array.from({ length: partitions * perPartition }, (_, i) => {
    const key = `w${next() % 300}`
    keys[i % partitions]!.push(key) // offset o of partition p is keys[p][o]
    return { topic, partition: i % partitions, key, value: '1' }
  })
  for (let i = 0; i < records.length; i += 10_000) await client.produce(records.slice(i, i + 10_000))
  const env = {
    KAFKA_BOOTSTRAP: bootstrap().join(','),
    TOPIC: topic,
    CHECKPOINT: join(dir, 'checkpoint'),
    DATABASE: join(dir, 'windows.db'),
    JOB: 'windows',
    BATCH_INTERVAL: '200',
    MAX_RATE: String((perBatch * 1000) / 200),
  }

  const jobs = await crashThenFinish(t, {
    start: (extra) => start({ ...env, ...extra }),
    kills: [
      // The window at batch 5 (batches 1-5) is written, its batch not committed: the restart
      // re-runs batch 5 with no previous window in memory, from scratch.
      { at: 'written:5', replayOutcome: 'outcome:5:replay:applied' },
      // Batch 7's ranges are logged, nothing of it computed.
      { at: 'planned:7', replayOutcome: 'outcome:7:replay:applied' },
    ],
    randomKills: 1,
    lastBatch,
  })

  // Every batch read exactly its slice of every partition.
  const planned = plannedBatches(jobs)
  for (let b = 0; b <= lastBatch; b++) {
    const from = BigInt(Math.min(b * perBatch, perPartition))
    const until = BigInt(Math.min((b + 1) * perBatch, perPartition))
    assert.deepEqual(
      planned.get(b)?.map((r) => [r.partition, r.fromOffset, r.untilOffset]),
      Array.from({ length: partitions }, (_, p) => [p, from, until]),
      `the ranges of batch ${b}`,
    )
  }
  // The window at batch w counts the keys of batches w-4…w (clipped at 0); keys counted 0 are dropped.
  const expected: string[] = []
  for (let w = 1; w <= Math.max(...planned.keys()); w += 2) {
    const counts = new Map<string, number>()
    for (let p = 0; p < partitions; p++) {
      for (const key of keys[p]!.slice(Math.max(0, w - 4) * perBatch, (w + 1) * perBatch)) {
        counts.set(key, (counts.get(key) ?? 0) + 1)
      }
    }
    for (const [key, count] of [...counts].sort(([a], [b]) => (a < b ? -1 : 1)))
      expected.push(`${w} ${key} ${count}`)
  }
  assert.deepEqual(windowRows(env.DATABASE), expected)
  assert.deepEqual(
    [...new Set(expected.map((row) => Number(row.split(' ')[0])))],
    [1, 3, 5, 7, 9, 11, 13],
    'windows fill, then drain',
  )
})
