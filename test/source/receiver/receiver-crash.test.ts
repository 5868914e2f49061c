// The receiver's guarantees under SIGKILL, against a real broker: with the write-ahead log
// nothing is lost and the duplicates are exactly the re-deliveries the design predicts;
// without it, the same kills lose records, and the stream counts them.
import assert from 'node:assert/strict'
import { mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { CheckpointStore } from '../../../src/checkpoint/checkpoint-store.ts'
import { silentLogger } from '../../../src/core/logger.ts'
import { decodeReceiverPlan } from '../../../src/source/receiver/receiver-plan.ts'
import { type ChildJob, fixtures, jobStarter } from '../../helpers/child-job.ts'
import {
  bootstrap,
  createTestTopic,
  numberedRecords,
  randomTopicName,
  testClient,
} from '../../helpers/kafka.ts'
import { random } from '../../helpers/random.ts'
import { tempDir } from '../../helpers/temp-dir.ts'

const partitions = 2
const total = 6_000
const kills = 6

interface Delivery {
  readonly partition: number
  readonly offset: number
  readonly value: string
}

/** Every record every committed batch wrote, in batch order (a batch file holds one batch's records). */
function deliveries(out: string): Delivery[] {
  const files = readdirSync(out)
    .filter((f) => f.endsWith('.jsonl'))
    .sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10))
  const found: Delivery[] = []
  for (const file of files) {
    for (const line of readFileSync(join(out, file), 'utf8').split('\n')) {
      if (line === '') continue
      const [partition, offset, value] = JSON.parse(line) as [number, string, string]
      found.push({ partition, offset: Number(offset), value })
    }
  }
  return found
}

/** Copies of each record, keyed `partition:offset`. */
function copies(found: readonly Delivery[]): Map<string, Delivery[]> {
  const byRecord = new Map<string, Delivery[]>()
  for (const d of found) {
    const key = `${d.partition}:${d.offset}`
    byRecord.set(key, [...(byRecord.get(key) ?? []), d])
  }
  return byRecord
}

/** numberedRecords sends record i to partition i % 2, in order: offset o of partition p is record 2o + p. */
function expectedValue(partition: number, offset: number): string {
  return `v${offset * partitions + partition}`
}

async function recoveryOf(
  job: ChildJob,
): Promise<{ redeliveredRecords: number; lostRecords: number; redelivered: string[] }> {
  const line = await job.waitFor((l) => l.startsWith('recovery '))
  return JSON.parse(line.slice('recovery '.length))
}

/** Waits for a batch this run planned itself (not a re-run of the previous run's pending batch) to commit. */
async function ownBatchCommitted(job: ChildJob): Promise<void> {
  await job.waitFor((l) => /^committed:\d+:first:/.test(l))
}

/** Lets the last run take in and process everything, then stops it gracefully. */
async function drain(job: ChildJob, out: string): Promise<void> {
  const deadline = Date.now() + 180_000
  while (copies(deliveries(out)).size < total && Date.now() < deadline) await sleep(200)
  assert.equal(await job.kill('SIGTERM'), 0, `a graceful stop exits cleanly; ${job.describe()}`)
}

/** The runs of one test's job, and the environment they share: the topic, a new group, a checkpoint, an output directory. */
function setup(t: import('node:test').TestContext, topic: string, settings: Record<string, string>) {
  // Jobs first: t.after hooks run in order, and a job must be gone before its directory is.
  const start = jobStarter(t, fixtures.receiver)
  const dir = tempDir(t, 'receiver-crash')
  const out = join(dir, 'out')
  mkdirSync(out)
  const checkpoint = join(dir, 'checkpoint')
  const env = {
    KAFKA_BOOTSTRAP: bootstrap().join(','),
    TOPIC: topic,
    GROUP: randomTopicName('receiver'),
    CHECKPOINT: checkpoint,
    OUT: out,
    BATCH_INTERVAL: '300',
    BLOCK_INTERVAL: '50',
    ...settings,
  }
  return { start, out, checkpoint, env }
}

test('with the write-ahead log, SIGKILLs at random moments lose nothing, and every duplicate is a predicted re-delivery', {
  timeout: 600_000,
}, async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions })
  await client.produce(numberedRecords(topic, total, partitions))
  const { start, out, env } = setup(t, topic, {
    WAL: '1',
    // About 4 s to take everything in: the kills land while records flow.
    MAX_RATE: '1500',
  })
  let predicted = 0
  const predictedRanges: string[] = []
  const started = async (job: ChildJob, what: string) => {
    const recovery = await recoveryOf(job)
    predicted += recovery.redeliveredRecords
    predictedRanges.push(...recovery.redelivered)
    t.diagnostic(`${what}: ${recovery.redeliveredRecords} re-deliveries predicted from the previous run`)
    await job.waitFor('started')
  }
  // Three exact moments: a block logged by the tracker but not committed to the group (its
  // records come again); a block in the data log the tracker never heard of (they come again,
  // but the block is never processed); a block committed. Then random moments.
  for (const moment of ['added:3', 'stored:4', 'committed:5']) {
    const job = start({ ...env, PAUSE_AT: moment })
    await started(job, `run paused at ${moment}`)
    await job.waitFor(`paused ${moment}`)
    await job.kill()
  }
  const next = random(15)
  for (let i = 0; i < kills; i++) {
    const job = start(env)
    await started(job, `random run ${i}`)
    const delay = 100 + (next() % 900)
    t.diagnostic(`random run ${i}: SIGKILL after ${delay} ms`)
    await sleep(delay)
    await job.kill()
  }
  const final = start(env)
  await started(final, 'last run')
  await drain(final, out)

  const byRecord = copies(deliveries(out))
  assert.equal(byRecord.size, total, 'every record produced was processed')
  let duplicates = 0
  for (const [key, found] of byRecord) {
    const { partition, offset } = found[0]!
    for (const copy of found) assert.equal(copy.value, expectedValue(partition, offset), `record ${key}`)
    duplicates += found.length - 1
    if (found.length > 1) {
      const inPredicted = predictedRanges.some((range) => inRange(range, topic, partition, offset))
      assert.ok(
        inPredicted,
        `record ${key} was processed ${found.length} times outside every predicted range`,
      )
    }
  }
  t.diagnostic(`${duplicates} duplicates, ${predicted} predicted, over ${kills + 3} kills`)
  assert.ok(duplicates > 0, 'the kill between logging a block and committing it makes duplicates')
  assert.equal(duplicates, predicted, 'the duplicates are exactly the predicted re-deliveries')
})

test('without the write-ahead log, the same kills lose records, and the batches count every one', {
  timeout: 600_000,
}, async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions })
  // Records keep arriving while the job is killed again and again, as they would in production.
  const producer = steadyProducer(client, topic, 2_000)
  const { start, out, checkpoint, env } = setup(t, topic, {
    WAL: '0',
    AUTO_COMMIT_INTERVAL: '100',
    // Processing is slower than input: received blocks wait in memory, already auto-committed.
    OUTPUT_DELAY: '450',
  })
  const next = random(16)
  for (let i = 0; i < kills; i++) {
    const job = start(env)
    await job.waitFor('started')
    // The run's own first batch carries what its start found lost (see recovery-report.ts).
    await ownBatchCommitted(job)
    const delay = 100 + (next() % 900)
    t.diagnostic(`run ${i}: SIGKILL after ${delay} ms`)
    await sleep(delay)
    await job.kill()
  }
  const produced = await producer.stop()
  const final = start(env)
  await final.waitFor('started')
  await ownBatchCommitted(final)
  // A graceful stop processes everything received; wait until the group has received it all.
  const ends = [Math.ceil(produced / partitions), Math.floor(produced / partitions)].map(BigInt)
  const deadline = Date.now() + 180_000
  for (;;) {
    const group = await client.groupOffsets(env.GROUP)
    if (group.length === partitions && group.every((g) => g.offset === ends[g.partition])) break
    assert.ok(Date.now() < deadline, `the group did not reach the end: ${JSON.stringify(group.map(String))}`)
    await sleep(200)
  }
  assert.equal(await final.kill('SIGTERM'), 0, `a graceful stop exits cleanly; ${final.describe()}`)

  const byRecord = copies(deliveries(out))
  for (const [key, found] of byRecord) {
    const { partition, offset } = found[0]!
    for (const copy of found) assert.equal(copy.value, expectedValue(partition, offset), `record ${key}`)
  }
  const lost = produced - byRecord.size
  const duplicates = [...byRecord.values()].reduce((sum, found) => sum + found.length - 1, 0)
  const counted = await countedLost(checkpoint)
  t.diagnostic(
    `${produced} produced, ${lost} lost (${counted} counted by the batches), ${duplicates} duplicates, over ${kills} kills`,
  )
  assert.ok(lost > 0, 'auto-committed records held only in memory are lost')
  assert.equal(counted, lost, "the batches' lostRecords add up to exactly the records lost")
})

/** Produces numbered records (record i to partition i % 2, value `v<i>`) at about `rate`/s until stopped; resolves with how many. */
function steadyProducer(client: ReturnType<typeof testClient>, topic: string, rate: number) {
  let stopped = false
  let sent = 0
  const perTick = Math.max(1, Math.round(rate / 20))
  const running = (async () => {
    while (!stopped) {
      await client.produce(
        Array.from({ length: perTick }, (_, j) => ({
          topic,
          partition: (sent + j) % partitions,
          value: `v${sent + j}`,
        })),
      )
      sent += perTick
      await sleep(50)
    }
  })()
  return {
    async stop(): Promise<number> {
      stopped = true
      await running
      return sent
    },
  }
}

/** Sum of lostRecords over the committed batches' plans, read from the checkpoint. */
async function countedLost(dir: string): Promise<number> {
  const store = await CheckpointStore.open(dir, { appName: 'receiver-child', logger: silentLogger })
  try {
    const view = await store.recover()
    const last = view.lastCommittedBatchId ?? -1
    let lost = 0
    for (const entry of await store.readPlannedBatches(0, last)) {
      const own = entry.inputs['kafka-receiver-0']
      if (own?.plan === undefined) continue
      lost += decodeReceiverPlan(own.plan, `batch ${entry.batchId}`).lostRecords
    }
    return lost
  } finally {
    await store.close()
  }
}

/** Whether `text`, an OffsetRange's string form `topic-p [from, until)`, holds the record. */
function inRange(text: string, topic: string, partition: number, offset: number): boolean {
  const match = /^(.*)-(\d+) \[(\d+), (\d+)\)$/.exec(text)
  if (!match) throw new Error(`cannot parse the range '${text}'`)
  return (
    match[1] === topic &&
    Number(match[2]) === partition &&
    offset >= Number(match[3]) &&
    offset < Number(match[4])
  )
}
