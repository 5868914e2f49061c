import assert from 'node:assert/strict'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { test } from 'node:test'
import { fixtures, jobStarter } from '../helpers/child-job.ts'
import { crashThenFinish } from '../helpers/crash-scenario.ts'
import { bootstrap, createTestTopic, testClient } from '../helpers/kafka.ts'
import { random } from '../helpers/random.ts'
import { tempDir } from '../helpers/temp-dir.ts'

const partitions = 4
const recordCount = 300_000
const keyCount = 20_000

test('updateStateByKey over 300k records survives SIGKILL at 5 moments, one inside a snapshot write, with exact totals once caught up', {
  timeout: 600_000,
}, async (t) => {
  const start = jobStarter(t, fixtures.state)
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

  await crashThenFinish(t, {
    start: (extra) => start({ ...env, ...extra }),
    kills: [
      // Batch 4's ranges are logged, nothing of it computed (batches 0-3 committed, a snapshot after 2).
      { at: 'planned:4', replayOutcome: 'outcome:4:replay:applied' },
      // Inside a snapshot write: this run restores snapshot 2, recomputes batch 3, re-runs batch 4,
      // commits batch 5 and dies writing the snapshot after it, past its first pieces. Batch 5
      // is committed: no later run may output it again.
      {
        at: 'snapshot-entry:12000',
        batch: 5,
        replayOutcome: undefined,
        check: async () => {
          const partial = (await readdir(stateDir)).filter(
            (name) => name.startsWith('.5.') && name.endsWith('.tmp'),
          )
          assert.equal(partial.length, 1, 'the killed write left its temp file')
          assert.ok((await stat(join(stateDir, partial[0]!))).size > 0, 'with part of the snapshot in it')
          assert.ok(!(await readdir(stateDir)).includes('5'), 'and no snapshot 5')
        },
      },
      // Batch 9's totals are in SQLite but the checkpoint does not know it.
      { at: 'written:9', replayOutcome: 'outcome:9:replay:applied' },
    ],
  })

  // The last run has committed an empty batch: every record is in, and nothing came twice.
  const db = new DatabaseSync(env.DATABASE, { readOnly: true })
  t.after(() => db.close())
  const totals = db
    .prepare('SELECT key, total FROM totals ORDER BY key')
    .all()
    .map((row): [string, number] => [String(row.key), Number(row.total)])
  assert.deepEqual(new Map(totals), new Map([...expected].sort(([a], [b]) => (a < b ? -1 : 1))))
  assert.ok(!(await readdir(stateDir)).some((name) => name.endsWith('.tmp')), 'the temp file was swept')
})
