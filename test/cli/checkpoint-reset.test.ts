// `sluice checkpoint show|reset` on a real job against a real broker: show while the job runs
// (and reset refused then), and a reset to each kind of target followed by a restart that
// reads exactly from the new positions.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { type ChildJob, caughtUp, fixtures, jobStarter } from '../helpers/child-job.ts'
import { bootstrap, createTestTopic, testClient } from '../helpers/kafka.ts'
import { sluice } from '../helpers/sluice-cli.ts'
import { tempDir } from '../helpers/temp-dir.ts'

const recordLines = (job: ChildJob) => job.lines.filter((l) => l.startsWith('record:'))

/** Runs the job until it has read everything there is, stops it gracefully, and returns what it read. */
async function runToEnd(start: (env: Record<string, string>) => ChildJob, env: Record<string, string>) {
  const job = start(env)
  await caughtUp(job)
  job.process.kill('SIGTERM')
  assert.equal((await job.exited).code, 0, job.describe())
  return recordLines(job)
}

/**
 * Phase A: 3 records per partition stamped two hours ago; phase B: 3 more stamped one hour
 * ago (brokers refuse timestamps more than an hour ahead, by default).
 */
const phaseA = Date.now() - 2 * 3_600_000
const phaseB = Date.now() - 3_600_000

test('checkpoint show on a running job: its lock, positions, log offsets and lag; a reset is refused while it runs', async (t) => {
  const start = jobStarter(t, fixtures.records)
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions: 2, prefix: 'show' })
  await client.produce(Array.from({ length: 10 }, (_, i) => ({ topic, partition: i % 2, value: `v${i}` })))
  const dir = join(tempDir(t, 'show'), 'ckpt')
  const app = `show-${randomBytes(4).toString('hex')}`
  const job = start({ TOPIC: topic, APP: app, CHECKPOINT: dir })
  await caughtUp(job)
  const brokers = bootstrap().join(',')

  const shown = await sluice('checkpoint', 'show', dir, '--brokers', brokers, '--json')
  assert.equal(shown.code, 0, shown.stderr)
  const doc = JSON.parse(shown.stdout)
  assert.equal(doc.app, app)
  assert.deepEqual({ pid: doc.lock.pid, alive: doc.lock.alive }, { pid: job.process.pid, alive: true })
  assert.deepEqual(
    doc.inputs.map((input: { name: string; partitions: Record<string, unknown>[] }) => ({
      name: input.name,
      partitions: input.partitions.map(({ topic, partition, position, logStart, latest, lag }) => ({
        topic,
        partition,
        position,
        logStart,
        latest,
        lag,
      })),
    })),
    [
      {
        name: 'direct-kafka-0',
        partitions: [0, 1].map((partition) => ({
          topic,
          partition,
          position: '5',
          logStart: '0',
          latest: '5',
          lag: '0',
        })),
      },
    ],
  )
  // Seven more records on partition 0: the running job reads them, and show follows it.
  await client.produce(Array.from({ length: 7 }, (_, i) => ({ topic, partition: 0, value: `w${i}` })))
  const read = await job.waitFor((l) => l === `record:${topic}-0@11=${JSON.stringify('w6')}`)
  // Once that batch committed, partition 0 stands at 12: the next batch (pending or not) starts there.
  await job.waitFor((l) => l.startsWith('committed:') && job.lines.indexOf(l) > job.lines.indexOf(read))
  const text = await sluice('checkpoint', 'show', dir, '--brokers', brokers)
  assert.equal(text.code, 0, text.stderr)
  assert.match(
    text.stdout,
    new RegExp(`^lock +held by process ${job.process.pid} on host '[^']+' since .* \\(running\\)$`, 'm'),
  )
  assert.match(text.stdout, /^TOPIC +PARTITION +POSITION +PENDING RANGE +LOG START +LATEST +LAG$/m)
  assert.match(text.stdout, new RegExp(`^${topic} +0 +12 +(-|\\[12, 12\\)) +0 +12 +0$`, 'm'), text.stdout)

  const commits = readdirSync(join(dir, 'commits')).length
  const refused = await sluice('checkpoint', 'reset', dir, '--to', 'earliest', '--brokers', brokers)
  assert.equal(refused.code, 1)
  assert.match(
    refused.stderr,
    new RegExp(
      `^sluice: checkpoint directory '${dir}' is locked by process ${job.process.pid} on host '[^']+' \\(started [^)]+\\); ` +
        'stop that process first, .*\\[SLUICE_CHECKPOINT_LOCKED\\]\\n$',
    ),
  )
  job.process.kill('SIGTERM')
  assert.equal((await job.exited).code, 0)
  assert.ok(readdirSync(join(dir, 'commits')).length >= commits)
  assert.equal((await sluice('checkpoint', 'show', dir, '--json')).code, 0)
  assert.equal(JSON.parse((await sluice('checkpoint', 'show', dir, '--json')).stdout).lock, null, 'released')
})

test('checkpoint reset to earliest, latest, a time and a file of offsets: each restart reads exactly from there', async (t) => {
  const start = jobStarter(t, fixtures.records)
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions: 2, prefix: 'reset' })
  const produce = async (phase: string, timestamp: number, count: number) => {
    for (let i = 0; i < count; i++) {
      await client.produce(
        [0, 1].map((partition) => ({ topic, partition, value: `${phase}${i}`, timestamp: timestamp + i })),
      )
    }
  }
  await produce('a', phaseA, 3)
  await produce('b', phaseB, 3)
  const base = tempDir(t, 'reset')
  const dir = join(base, 'ckpt')
  const env = { TOPIC: topic, APP: `reset-${randomBytes(4).toString('hex')}`, CHECKPOINT: dir }
  const line = (partition: number, offset: number, value: string) =>
    `record:${topic}-${partition}@${offset}=${JSON.stringify(value)}`
  const everything = [0, 1].flatMap((p) => ['a0', 'a1', 'a2', 'b0', 'b1', 'b2'].map((v, i) => line(p, i, v)))
  assert.deepEqual(await runToEnd(start, env), everything)
  const brokers = bootstrap().join(',')

  // earliest: everything again.
  const earliest = await sluice('checkpoint', 'reset', dir, '--to', 'earliest', '--brokers', brokers)
  assert.equal(earliest.code, 0, earliest.stderr)
  assert.equal(
    earliest.stdout.split('\n').slice(0, 3).join('\n'),
    'INPUT           TOPIC' +
      ' '.repeat(topic.length - 3) +
      'PARTITION  CURRENT  NEW  LOG START  LATEST  NOTE\n' +
      `direct-kafka-0  ${topic}          0        6    0          0       6\n` +
      `direct-kafka-0  ${topic}          1        6    0          0       6`,
  )
  assert.deepEqual(await runToEnd(start, env), everything)

  // latest: only what comes after the reset.
  assert.equal((await sluice('checkpoint', 'reset', dir, '--to', 'latest', '--brokers', brokers)).code, 0)
  await produce('c', Date.now(), 1)
  assert.deepEqual(await runToEnd(start, env), [line(0, 6, 'c0'), line(1, 6, 'c0')])

  // A time, one partition: partition 0 goes back to the first record of phase B; partition 1 stays.
  const time = new Date(phaseB).toISOString()
  const resetPartition0 = [
    'checkpoint',
    'reset',
    dir,
    '--to',
    time,
    '--topic',
    topic,
    '--partition',
    '0',
    '--brokers',
    brokers,
  ]
  const dry = await sluice(...resetPartition0, '--dry-run')
  assert.match(dry.stdout, new RegExp(`^direct-kafka-0  ${topic} +0 +7 +3 +0 +7$`, 'm'))
  assert.match(dry.stdout, /^dry run: nothing was written/m)
  assert.deepEqual(await runToEnd(start, env), [], 'a dry run changes nothing')
  const timed = await sluice(...resetPartition0)
  assert.equal(timed.code, 0, timed.stderr)
  assert.deepEqual(await runToEnd(start, env), [
    line(0, 3, 'b0'),
    line(0, 4, 'b1'),
    line(0, 5, 'b2'),
    line(0, 6, 'c0'),
  ])

  // A file of offsets: partition 1 back to offset 4; an offset past the log end is moved to it.
  const offsets = join(base, 'offsets.json')
  writeFileSync(offsets, JSON.stringify({ [topic]: { 1: 4, 0: '99' } }))
  const fromFile = await sluice('checkpoint', 'reset', dir, '--to', offsets, '--brokers', brokers)
  assert.equal(fromFile.code, 0, fromFile.stderr)
  assert.match(
    fromFile.stdout,
    new RegExp(`^direct-kafka-0  ${topic} +0 +7 +7 +0 +7 +99 is past the latest offset: moved to 7$`, 'm'),
  )
  assert.deepEqual(await runToEnd(start, env), [line(1, 4, 'b1'), line(1, 5, 'b2'), line(1, 6, 'c0')])

  // The resets are batches of the checkpoint, committed, with what they did in their commit.
  const shown = JSON.parse((await sluice('checkpoint', 'show', dir, '--json')).stdout)
  assert.deepEqual(
    shown.inputs[0].partitions.map((p: { position: string }) => p.position),
    ['7', '7'],
  )
})
