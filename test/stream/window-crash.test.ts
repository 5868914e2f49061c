import assert from 'node:assert/strict'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { fixtures, jobStarter } from '../helpers/child-job.ts'
import { bootstrap, createTestTopic, testClient } from '../helpers/kafka.ts'
import { random } from '../helpers/random.ts'
import { tempDir } from '../helpers/temp-dir.ts'

const partitions = 4
const lastBatch = 19

function windowRows(path: string): string[] {
  const db = new DatabaseSync(path, { readOnly: true })
  try {
    return db
      .prepare('SELECT batch_id, key, count FROM windows WHERE batch_id <= ? ORDER BY batch_id, key')
      .all(lastBatch)
      .map((row) => `${row.batch_id} ${row.key} ${row.count}`)
  } finally {
    db.close()
  }
}

test('an incremental window killed mid-window resumes with the same window results as an uncrashed run', {
  timeout: 600_000,
}, async (t) => {
  const startJob = jobStarter(t, fixtures.state)
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions })
  const dir = tempDir(t, 'window-crash')
  const next = random(11)
  const records = Array.from({ length: 40_000 }, (_, i) => ({
    topic,
    partition: i % partitions,
    key: `w${next() % 300}`,
    value: '1',
  }))
  for (let i = 0; i < records.length; i += 10_000) await client.produce(records.slice(i, i + 10_000))

  // 1,000 records per partition per batch: batches 0-9 hold data, windows of 5 batches every 2
  // drain by batch 13. Batches depend only on the data and the rate, never on timing.
  const env = (name: string) => ({
    KAFKA_BOOTSTRAP: bootstrap().join(','),
    TOPIC: topic,
    CHECKPOINT: join(dir, `${name}-checkpoint`),
    DATABASE: join(dir, `${name}.db`),
    JOB: 'windows',
    BATCH_INTERVAL: '200',
    MAX_RATE: '5000',
  })

  const reference = startJob(env('reference'))
  await reference.waitFor(`committed:${lastBatch}`)
  assert.equal(await reference.kill('SIGTERM'), 0)

  const crashed = env('crashed')
  // The window at batch 5 (batches 1-5) is written, its batch not committed: a restart
  // re-runs batch 5 with no previous window in memory, from scratch.
  let job = startJob({ ...crashed, PAUSE_AT: 'written:5' })
  await job.waitFor('paused written:5')
  await job.kill()
  job = startJob({ ...crashed, PAUSE_AT: 'planned:8' })
  await job.waitFor('paused planned:8')
  await job.kill()
  job = startJob(crashed)
  await job.waitFor('started')
  const delay = 100 + (random(Date.now() & 0xffff)() % 900)
  t.diagnostic(`random kill after ${delay} ms`)
  await sleep(delay)
  await job.kill()
  const final = startJob(crashed)
  await final.waitFor(`committed:${lastBatch}`)
  assert.equal(await final.kill('SIGTERM'), 0)

  const expected = windowRows(env('reference').DATABASE)
  // Windows at batches 1, 3 … 13 hold data; the one at batch 5 covers batches 1-5: 20,000 records.
  const batch5 = expected.filter((row) => row.startsWith('5 ')).map((row) => Number(row.split(' ')[2]))
  assert.equal(
    batch5.reduce((a, b) => a + b, 0),
    20_000,
  )
  assert.deepEqual([...new Set(expected.map((row) => Number(row.split(' ')[0])))], [1, 3, 5, 7, 9, 11, 13])
  assert.deepEqual(windowRows(crashed.DATABASE), expected)
})
