import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { silentLogger } from '../../../src/core/logger.ts'
import { KafkaClient } from '../../../src/kafka/client.ts'
import { type LocalKafka, startLocalKafka } from '../../../src/local-kafka/broker.ts'
import { type ChildJob, finishRun, jobStarter, rangesOf } from './child-job.ts'
import { sqlJobWorld, tempDir } from './sql-job.ts'
import { countWords, endOffsets, produceLines, total, wordLines } from './words.ts'

// The job's surroundings fail as well as the job: this test kills its own broker, so it
// starts one rather than using the run's.
const brokerDir = mkdtempSync(join(tmpdir(), 'sluice-chaos-'))
let kafka: LocalKafka
let client: KafkaClient

before(async () => {
  kafka = (await startLocalKafka({ dir: brokerDir, logger: silentLogger, heapMb: 512 })).kafka
  client = new KafkaClient({ brokers: [kafka.bootstrap], logger: silentLogger, retryTimeoutMs: 120_000 })
})

after(async () => {
  await client?.close()
  await kafka?.stop()
  rmSync(brokerDir, { recursive: true, force: true })
})

const partitions = 4
const lineCount = 200_000
const jobKills = 10
const brokerRestarts = 3

const random = (min: number, max: number) => min + Math.floor(Math.random() * (max - min))

test('word count into SQLite through 10 job SIGKILLs and 3 broker SIGKILLs ends exact, with no failed batch', {
  timeout: 300_000,
}, async (t) => {
  const began = Date.now()
  const at = () => `${((Date.now() - began) / 1000).toFixed(1)} s`
  const start = jobStarter(t)
  const world = await sqlJobWorld(t, 'sqlite')
  const topic = 'chaos-lines'
  await client.createTopics([{ name: topic, partitions }])
  const lines = wordLines(lineCount)
  await produceLines(client, topic, partitions, lines)
  const expected = countWords(lines)
  t.diagnostic(`${at()}: ${lineCount} lines produced`)
  const env = world.env(topic, {
    KAFKA_BOOTSTRAP: kafka.bootstrap,
    CHECKPOINT: join(tempDir(t), 'checkpoint'),
    BATCH_INTERVAL: '200',
    MAX_RATE: '2500', // 500 records per partition per batch: the backlog outlasts the chaos
    // Longer than any outage here (the broker's own restart takes 10–20 s on a busy machine):
    // every outage must be ridden out without a failed batch.
    RETRY_TIMEOUT_MS: '120000',
  })

  // Three of the runs see the broker die under them. Two ride the outage out and commit
  // batches after it before they are killed; in the other the job is killed while the broker
  // is down, so the next run starts against a broker that is not there yet and waits for it.
  const brokerRuns = new Map<number, 'ride-out' | 'start-during-outage'>()
  const modes = ['ride-out', 'ride-out', 'start-during-outage'] as const
  while (brokerRuns.size < brokerRestarts) {
    const run = random(0, jobKills - 1)
    if (!brokerRuns.has(run)) brokerRuns.set(run, modes[brokerRuns.size]!)
  }
  const jobs: ChildJob[] = []
  let restarting: Promise<void> = Promise.resolve()
  for (let kill = 0; kill < jobKills; kill++) {
    const job = start(env)
    jobs.push(job)
    await job.waitFor('started', 120_000)
    const mode = brokerRuns.get(kill)
    if (mode !== undefined) {
      await restarting
      await sleep(random(100, 1000))
      const down = random(0, 2000)
      await kafka.kill()
      t.diagnostic(
        `${at()}: broker killed under job ${kill} (${mode}); down for ${down} ms before it restarts`,
      )
      restarting = sleep(down).then(() => kafka.start())
      if (mode === 'ride-out') {
        await restarting
        const since = job.lines.length
        await job.waitFor(
          (line) => line.startsWith('committed:') && job.lines.indexOf(line, since) >= since,
          120_000,
        )
        t.diagnostic(`${at()}: job ${kill} committed a batch after the broker came back`)
      }
    }
    const delay = random(200, 1500)
    await sleep(delay)
    assert.equal(
      job.process.exitCode,
      null,
      `job ${kill} is still running: ${job.lines.slice(-3).join(' | ')}`,
    )
    await job.kill()
    t.diagnostic(`${at()}: job ${kill} killed ${delay} ms later`)
  }
  await restarting
  t.diagnostic(`${at()}: the broker is back; the last run finishes`)
  // Nothing is left to prove about rates: the last run reads the rest at full speed.
  const last = start({ ...env, MAX_RATE: '0' })
  jobs.push(last)
  await finishRun(last, async () => total(await world.counts()) >= total(expected))
  t.diagnostic(`${at()}: finished`)

  for (const [i, job] of jobs.entries()) {
    const failed = job.lines.filter((l) => l.startsWith('stream-error') || l.startsWith('start-error'))
    assert.deepEqual(failed, [], `run ${i} had no failed batch`)
  }
  assert.deepEqual(await world.counts(), expected)
  assert.deepEqual(await world.stored(), endOffsets(topic, partitions, lineCount))

  // Every batch id from 0 up was planned by some run (a re-run with the same ranges), and the
  // batches' ranges tile each partition from 0 to its end: no batch skipped, whatever the outages.
  const planned = new Map<number, ReturnType<typeof rangesOf>>()
  for (const job of jobs) {
    for (const line of job.lines) {
      const id = Number(/^ranges:(\d+):/.exec(line)?.[1] ?? Number.NaN)
      if (Number.isNaN(id)) continue
      const ranges = rangesOf(job, id)
      const earlier = planned.get(id)
      if (earlier) assert.deepEqual(ranges, earlier, `batch ${id} re-ran with the ranges it was planned with`)
      else planned.set(id, ranges)
    }
  }
  const ids = [...planned.keys()].sort((a, b) => a - b)
  assert.deepEqual(
    ids,
    Array.from({ length: ids.length }, (_, i) => i),
  )
  const ends = endOffsets(topic, partitions, lineCount)[topic]!
  for (let partition = 0; partition < partitions; partition++) {
    let next = 0n
    for (const id of ids) {
      const range = planned.get(id)!.find((r) => r.partition === partition)
      if (range === undefined) continue
      assert.equal(
        range.fromOffset,
        next,
        `batch ${id} of partition ${partition} starts where the one before ended`,
      )
      next = range.untilOffset
    }
    assert.equal(next, ends[partition], `partition ${partition} is read to its end`)
  }
  t.diagnostic(`${at()}: checked`)
  t.after(() => t.diagnostic(`${at()}: cleaned up`))
})
