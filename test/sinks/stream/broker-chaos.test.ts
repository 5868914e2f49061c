import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { silentLogger } from '../../../src/core/logger.ts'
import { KafkaClient } from '../../../src/kafka/client.ts'
import { type ChildJob, finishRun, fixtures, jobStarter, plannedBatches } from '../../helpers/child-job.ts'
import { eventually } from '../../helpers/eventually.ts'
import { privateBroker } from '../../helpers/own-servers.ts'
import { tempDir } from '../../helpers/temp-dir.ts'
import { countWords, endOffsets, produceLines, total, wordLines } from '../../helpers/words.ts'
import { sqlJobWorld } from './sql-job.ts'

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
  // The job's surroundings fail as well as the job: the test kills a broker of its own.
  const kafka = await privateBroker(t)
  const client = new KafkaClient({
    brokers: [kafka.bootstrap],
    logger: silentLogger,
    retryTimeoutMs: 120_000,
  })
  t.after(() => client.close())
  const start = jobStarter(t, fixtures.sinkWordCount)
  const world = await sqlJobWorld(t, 'sqlite')
  const topic = 'chaos-lines'
  await client.createTopics([{ name: topic, partitions }])
  const lines = wordLines(lineCount)
  await produceLines(client, topic, partitions, lines)
  const expected = countWords(lines)
  t.diagnostic(`${at()}: ${lineCount} lines produced`)
  const env = world.env(topic, {
    KAFKA_BOOTSTRAP: kafka.bootstrap,
    CHECKPOINT: join(tempDir(t, 'chaos'), 'checkpoint'),
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
  // Counted in full first: the last run may begin by re-running an empty batch a killed run planned.
  await eventually(async () => total(await world.counts()) >= total(expected), 'every word counted', {
    timeoutMs: 120_000,
    intervalMs: 200,
  })
  await finishRun(last)
  t.diagnostic(`${at()}: finished`)

  for (const [i, job] of jobs.entries()) {
    const failed = job.lines.filter((l) => l.startsWith('stream-error') || l.startsWith('start-error'))
    assert.deepEqual(failed, [], `run ${i} had no failed batch`)
  }
  assert.deepEqual(await world.counts(), expected)
  assert.deepEqual(await world.stored(), endOffsets(topic, partitions, lineCount))

  // Every batch id from 0 up was planned by some run (re-runs with the same ranges), and the
  // batches' ranges tile each partition from 0 to its end: no batch skipped, whatever the outages.
  const planned = plannedBatches(jobs)
  const ids = [...planned.keys()]
  assert.deepEqual(
    ids,
    Array.from({ length: ids.length }, (_, i) => i),
  )
  const ends = endOffsets(topic, partitions, lineCount)[topic]!
  for (let partition = 0; partition < partitions; partition++) {
    let next = 0n
    for (const [id, ranges] of planned) {
      const range = ranges.find((r) => r.partition === partition)
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
