import assert from 'node:assert/strict'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { fixtures, jobStarter } from '../helpers/child-job.ts'
import { bootstrap, createTestTopic, testClient } from '../helpers/kafka.ts'
import { random } from '../helpers/random.ts'
import { tempDir } from '../helpers/temp-dir.ts'

const partitions = 4
const recordCount = 300_000
const keyCount = 20_000

test('updateStateByKey over 300k records survives SIGKILL at 5 moments, one inside a snapshot write, with exact totals', {
  timeout: 600_000,
}, async (t) => {
  const startJob = jobStarter(t, fixtures.state)
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions })
  const dir = tempDir(t, 'state-crash')

  const next = random(7)
  const expected = new Map<string, number>()
  const records = Array.from({ length: recordCount }, (_, i) => {
    const key = `user-${next() % keyCount}`
    const amount = 1 + (next() % 100)
    expected.set(key, (expected.get(key) ?? 0) + amount)
    return { topic, partition: i % partitions, key, value: String(amount) }
  })
  for (let i = 0; i < records.length; i += 10_000) await client.produce(records.slice(i, i + 10_000))
  const grandTotal = [...expected.values()].reduce((a, b) => a + b, 0)

  const env = {
    KAFKA_BOOTSTRAP: bootstrap().join(','),
    TOPIC: topic,
    CHECKPOINT: join(dir, 'checkpoint'),
    DATABASE: join(dir, 'totals.db'),
    JOB: 'totals',
    BATCH_INTERVAL: '200',
    MAX_RATE: '18750', // 3,750 records per partition per batch: 20 batches; a snapshot every 3
  }
  const stateDir = join(env.CHECKPOINT, 'state', 'totals')

  // 1. Batch 4's ranges are logged, nothing of it computed (batches 0-3 committed, a snapshot after 2).
  let job = startJob({ ...env, PAUSE_AT: 'planned:4' })
  await job.waitFor('paused planned:4')
  await job.kill()
  // 2. Inside a snapshot write: this run restores snapshot 2, recomputes batch 3, re-runs batch 4,
  //    and dies writing the snapshot after batch 5 — past its first pieces.
  job = startJob({ ...env, PAUSE_AT: 'snapshot-entry:12000' })
  await job.waitFor('paused snapshot-entry:12000')
  await job.kill()
  const partial = (await readdir(stateDir)).filter((name) => name.startsWith('.5.') && name.endsWith('.tmp'))
  assert.equal(partial.length, 1, 'the killed write left its temp file')
  assert.ok((await stat(join(stateDir, partial[0]!))).size > 0, 'with part of the snapshot in it')
  assert.ok(!(await readdir(stateDir)).includes('5'), 'and no snapshot 5')
  // 3. Batch 9's totals are in SQLite but the checkpoint does not know it.
  job = startJob({ ...env, PAUSE_AT: 'written:9' })
  await job.waitFor('paused written:9')
  await job.kill()
  // 4, 5. Two random moments.
  const delays = random(Date.now() & 0xffff)
  for (let i = 1; i <= 2; i++) {
    job = startJob(env)
    await job.waitFor('started')
    const delay = 100 + (delays() % 900)
    t.diagnostic(`random kill ${i} after ${delay} ms`)
    await sleep(delay)
    await job.kill()
  }

  const final = startJob(env)
  const db = new DatabaseSync(env.DATABASE, { readOnly: true })
  t.after(() => db.close())
  const totals = () =>
    new Map(
      db
        .prepare('SELECT key, total FROM totals')
        .all()
        .map((row) => [String(row.key), Number(row.total)]),
    )
  const sum = () => [...totals().values()].reduce((a, b) => a + b, 0)
  const deadline = Date.now() + 180_000
  while (sum() < grandTotal && Date.now() < deadline) await sleep(100)
  assert.equal(await final.kill('SIGTERM'), 0, 'a graceful stop exits cleanly')
  assert.equal(sum(), grandTotal)
  assert.deepEqual(new Map([...totals()].sort()), new Map([...expected].sort()))
  assert.ok(!(await readdir(stateDir)).some((name) => name.endsWith('.tmp')), 'the temp file was swept')
})
