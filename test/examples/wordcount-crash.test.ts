import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { openCountsDatabase, wordTotals } from '../../examples/wordcount.ts'
import { bootstrap, createTestTopic, testClient } from '../helpers/kafka.ts'

const child = join(import.meta.dirname, '..', 'fixtures', 'wordcount-child.ts')
const vocabulary = Array.from({ length: 40 }, (_, i) => `w${i.toString(36)}`)

/** Deterministic pseudo-random lines so a failure can be reproduced. */
function* lines(count: number): Generator<string> {
  let seed = 42
  const next = () => {
    seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff
    return seed
  }
  for (let i = 0; i < count; i++) {
    const words = 1 + (next() % 5)
    yield Array.from({ length: words }, () => vocabulary[next() % vocabulary.length]).join(' ')
  }
}

interface Job {
  readonly process: ChildProcess
  readonly lines: AsyncIterableIterator<string>
}

function startJob(env: Record<string, string>): Job {
  const proc = spawn(process.execPath, [child], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  return { process: proc, lines: createInterface({ input: proc.stdout! })[Symbol.asyncIterator]() }
}

async function waitForLine(job: Job, wanted: string): Promise<void> {
  for (;;) {
    const { value, done } = await job.lines.next()
    if (done) throw new Error(`the job exited before printing '${wanted}'`)
    if (value === wanted) return
  }
}

async function kill(job: Job, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => job.process.once('exit', resolve))
  job.process.kill(signal)
  return exited
}

test('word count survives SIGKILL at 5 moments and ends with exact counts', {
  timeout: 600_000,
}, async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions: 4 })
  const dir = mkdtempSync(join(tmpdir(), 'sluice-crash-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))

  const all = [...lines(200_000)]
  const expected = new Map<string, number>()
  for (const line of all) {
    for (const word of line.split(' ')) expected.set(word, (expected.get(word) ?? 0) + 1)
  }
  for (let i = 0; i < all.length; i += 10_000) {
    await client.produce(
      all.slice(i, i + 10_000).map((value, j) => ({ topic, partition: (i + j) % 4, value })),
    )
  }
  const totalWords = [...expected.values()].reduce((a, b) => a + b, 0)

  const env = {
    KAFKA_BOOTSTRAP: bootstrap().join(','),
    TOPIC: topic,
    CHECKPOINT: join(dir, 'checkpoint'),
    DATABASE: join(dir, 'counts.db'),
    BATCH_INTERVAL: '200',
    MAX_RATE: '20000', // 4,000 records per partition per batch: about 13 batches in all
  }
  // Three precise moments: ranges logged but no output yet; inside the output's transaction;
  // output committed but the checkpoint commit not written. Then two random moments.
  for (const moment of ['planned:1', 'in-transaction:3', 'after-commit:5']) {
    const job = startJob({ ...env, PAUSE_AT: moment })
    await waitForLine(job, `paused ${moment}`)
    await kill(job)
  }
  for (let i = 1; i <= 2; i++) {
    const job = startJob(env)
    await waitForLine(job, 'started')
    const delay = 100 + Math.floor(Math.random() * 700)
    t.diagnostic(`random kill ${i} after ${delay} ms`)
    await sleep(delay)
    await kill(job)
  }

  const final = startJob(env)
  // The killed runs may have counted everything already: a SIGTERM before the job installs its
  // signal handlers would kill it instead of stopping it.
  await waitForLine(final, 'started')
  const db = openCountsDatabase(env.DATABASE)
  t.after(() => db.close())
  const counted = () => [...wordTotals(db).values()].reduce((a, b) => a + b, 0)
  const deadline = Date.now() + 120_000
  while (counted() < totalWords && Date.now() < deadline) await sleep(100)
  assert.equal(await kill(final, 'SIGTERM'), 0, 'a graceful stop exits cleanly')
  assert.equal(counted(), totalWords)
  assert.deepEqual(new Map([...wordTotals(db)].sort()), new Map([...expected].sort()))
})
