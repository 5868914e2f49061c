// Jobs reading a real broker as a supervisor (systemd, a container runtime) sees them: the
// README's job exits 1 when its stream fails and 0 on SIGTERM, an operator moves it past a
// bad record with `sluice checkpoint reset`, a SIGTERM during recovery stops it cleanly, and
// ssc.stop() from inside foreachBatch stops after that batch.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { test } from 'node:test'
import { caughtUp, fixtures, jobStarter } from '../helpers/child-job.ts'
import { bootstrap, createTestTopic, testClient } from '../helpers/kafka.ts'
import { sluice } from '../helpers/sluice-cli.ts'
import { tempDir } from '../helpers/temp-dir.ts'

const readmeJob = join(import.meta.dirname, '..', 'fixtures', 'readme-job-child.ts')

/** What the README job's file sink wrote: value to count, summed over every batch file. */
function counted(outDir: string): Record<string, number> {
  const totals: Record<string, number> = {}
  for (const file of readdirSync(outDir).filter((name) => name.endsWith('.jsonl'))) {
    for (const line of readFileSync(join(outDir, file), 'utf8').split('\n').filter(Boolean)) {
      const [value, count] = JSON.parse(line) as [string, number]
      totals[value] = (totals[value] ?? 0) + count
    }
  }
  return Object.fromEntries(Object.entries(totals).sort(([a], [b]) => (a < b ? -1 : 1)))
}

test("the README's job exits 1 on a record that is not JSON, again at each restart, until `checkpoint reset` moves past it; SIGTERM exits 0", {
  timeout: 180_000,
}, async (t) => {
  const start = jobStarter(t, readmeJob)
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions: 2, prefix: 'readme' })
  // Partition 0: 1, 2, (not JSON), 3; partition 1: 4, 5.
  await client.produce([
    ...['1', '2', 'not json', '3'].map((value) => ({ topic, partition: 0, value })),
    ...['4', '5'].map((value) => ({ topic, partition: 1, value })),
  ])
  const base = tempDir(t, 'readme')
  const env = {
    KAFKA_BOOTSTRAP: bootstrap().join(','),
    TOPIC: topic,
    APP: `readme-${randomBytes(4).toString('hex')}`,
    CHECKPOINT: join(base, 'ckpt'),
    OUT_DIR: join(base, 'out'),
    VALUE: 'json',
  }
  for (const run of ['first', 'restart']) {
    const failing = start(env)
    assert.deepEqual(await failing.exited, { code: 1, signal: null }, `${run}: ${failing.describe()}`)
    assert.match(failing.stderr, new RegExp(`could not deserialize the value of ${topic}-0 at offset 2`), run)
    assert.match(failing.stderr, /SLUICE_BATCH_FAILED/, run)
    assert.deepEqual(
      failing.lines.filter((l) => l.startsWith('counted:')),
      [],
      `${run}: the failed batch wrote nothing`,
    )
  }

  // The operator moves partition 0 past the bad record; partition 1 stays where it was.
  const offsets = join(base, 'past-bad-record.json')
  writeFileSync(offsets, JSON.stringify({ [topic]: { 0: 3 } }))
  const moved = await sluice(
    'checkpoint',
    'reset',
    env.CHECKPOINT,
    '--to',
    offsets,
    '--brokers',
    env.KAFKA_BOOTSTRAP,
  )
  assert.equal(moved.code, 0, moved.stderr)
  assert.match(moved.stdout, new RegExp(`^direct-kafka-0  ${topic} +0 +0 +3 +0 +4$`, 'm'))
  assert.doesNotMatch(moved.stdout, new RegExp(`^direct-kafka-0  ${topic} +1 `, 'm'))

  // Everything but the bad record (and the two before it, which the operator chose to skip too).
  const job = start(env)
  await job.waitFor((l) => /^counted:\d+:3$/.test(l))
  job.process.kill('SIGTERM')
  assert.deepEqual(await job.exited, { code: 0, signal: null }, job.describe())
  assert.deepEqual(counted(env.OUT_DIR), { 3: 1, 4: 1, 5: 1 })
})

test('SIGTERM while a Kafka job loads its state in recovery exits 0 and runs no batch; the restart ends with exact totals', {
  timeout: 180_000,
}, async (t) => {
  const start = jobStarter(t, fixtures.state)
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions: 2, prefix: 'recovery' })
  const dir = tempDir(t, 'recovery')
  const env = {
    KAFKA_BOOTSTRAP: bootstrap().join(','),
    TOPIC: topic,
    CHECKPOINT: join(dir, 'checkpoint'),
    DATABASE: join(dir, 'totals.db'),
    JOB: 'totals',
    BATCH_INTERVAL: '100',
  }
  const produce = (values: number[]) =>
    client.produce(
      values.map((value, i) => ({ topic, partition: i % 2, key: `k${i % 3}`, value: String(value) })),
    )
  await produce([1, 2, 3, 4, 5, 6])
  // Running until a snapshot of the totals exists (one every 3 batches), then stopped gracefully.
  const first = start(env)
  await caughtUp(first)
  await first.waitFor('committed:5')
  assert.equal(await first.kill('SIGTERM'), 0, first.describe())
  const commits = readdirSync(join(env.CHECKPOINT, 'commits')).sort()

  const interrupted = start({ ...env, PAUSE_IN_RECOVERY: '1' })
  await interrupted.waitFor('recovering')
  interrupted.process.kill('SIGTERM')
  assert.deepEqual(await interrupted.exited, { code: 0, signal: null }, interrupted.describe())
  assert.deepEqual(interrupted.lines, ['recovering', 'started', 'stopped'])
  assert.deepEqual(readdirSync(join(env.CHECKPOINT, 'commits')).sort(), commits, 'no batch ran')

  await produce([10, 20, 30])
  const last = start(env)
  await caughtUp(last)
  assert.equal(await last.kill('SIGTERM'), 0, last.describe())
  const db = new DatabaseSync(env.DATABASE, { readOnly: true })
  t.after(() => db.close())
  const totals = Object.fromEntries(
    db
      .prepare('SELECT key, total FROM totals ORDER BY key')
      .all()
      .map((row) => [String(row.key), Number(row.total)]),
  )
  // k0: 1 + 4 + 10, k1: 2 + 5 + 20, k2: 3 + 6 + 30.
  assert.deepEqual(totals, { k0: 15, k1: 27, k2: 39 })
})

test('ssc.stop() inside foreachBatch of a Kafka job: that batch commits, the process exits 0, and the restart goes on after it', {
  timeout: 180_000,
}, async (t) => {
  const start = jobStarter(t, fixtures.records)
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions: 1, prefix: 'self-stop' })
  await client.produce(['a', 'b', 'c'].map((value) => ({ topic, partition: 0, value })))
  const env = {
    KAFKA_BOOTSTRAP: bootstrap().join(','),
    TOPIC: topic,
    APP: `self-stop-${randomBytes(4).toString('hex')}`,
    CHECKPOINT: join(tempDir(t, 'self-stop'), 'ckpt'),
  }
  const line = (offset: number, value: string) => `record:${topic}-0@${offset}=${JSON.stringify(value)}`
  const stopping = start({ ...env, STOP_IN_BATCH: '0' })
  assert.deepEqual(await stopping.exited, { code: 0, signal: null }, stopping.describe())
  assert.deepEqual(
    stopping.lines.filter((l) => l.startsWith('record:')),
    [line(0, 'a'), line(1, 'b'), line(2, 'c')],
  )
  for (const marker of ['stop-returned:0', 'committed:0', 'stopped']) {
    assert.ok(stopping.lines.includes(marker), `${marker}: ${stopping.describe()}`)
  }
  assert.ok(!stopping.lines.some((l) => l.startsWith('ranges:1:')), 'no batch planned after the stop')
  assert.deepEqual(readdirSync(join(env.CHECKPOINT, 'commits')), ['0'], 'batch 0 committed, nothing after it')

  await client.produce([{ topic, partition: 0, value: 'd' }])
  const next = start(env)
  await caughtUp(next)
  assert.equal(await next.kill('SIGTERM'), 0)
  assert.deepEqual(
    next.lines.filter((l) => l.startsWith('record:')),
    [line(3, 'd')],
  )
})
