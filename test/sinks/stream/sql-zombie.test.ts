import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { ErrorCodes } from '../../../src/core/errors.ts'
import {
  type ChildJob,
  finishRun,
  fixtures,
  jobStarter,
  outcomes,
  rangesOf,
  storedOffsetsOf,
  untilOffsetsOf,
} from '../../helpers/child-job.ts'
import { createTestTopic, testClient } from '../../helpers/kafka.ts'
import { tempDir } from '../../helpers/temp-dir.ts'
import { countWords, endOffsets, produceLines, wordLines } from '../../helpers/words.ts'
import { engines, lockWaitWatcher } from '../sql/fixtures.ts'
import { type SqlJobWorld, sqlJobWorld } from './sql-job.ts'

const partitions = 4
const lineCount = 40_000 // 10,000 per partition: 10 batches of 1,000 per partition
const rate = { BATCH_INTERVAL: '200', MAX_RATE: '5000' }

/** Resolves once `job`'s next batch provably waits for another writer's lock. */
async function waitingForLock(world: SqlJobWorld, job: ChildJob): Promise<void> {
  if (world.engine === 'sqlite') {
    await job.waitFor('lock-wait')
    return
  }
  await lockWaitWatcher(world).waiting
}

for (const engine of engines) {
  test(`${engine}: a second instance that starts during the first one's transaction waits, then is fenced and stops`, {
    timeout: 120_000,
  }, async (t) => {
    const start = jobStarter(t, fixtures.sinkWordCount)
    const world = await sqlJobWorld(t, engine)
    const client = testClient(t)
    const topic = await createTestTopic(t, client, { partitions })
    const lines = wordLines(lineCount, 7)
    await produceLines(client, topic, partitions, lines)
    const checkpoint = join(tempDir(t, 'sink-stream'), 'checkpoint')

    const first = start(
      world.env(topic, {
        ...rate,
        CHECKPOINT: checkpoint,
        PAUSE_AT: 'in-transaction:2',
        PAUSE_MODE: 'resume',
      }),
    )
    await first.waitFor('paused in-transaction:2')

    // The same app on the same checkpoint directory is refused by the checkpoint's lock.
    const sameDir = start(world.env(topic, { ...rate, CHECKPOINT: checkpoint }))
    const refused = await sameDir.failure('start-error')
    assert.equal(refused.code, ErrorCodes.CHECKPOINT_LOCKED)
    assert.match(
      refused.message,
      new RegExp(`^checkpoint directory '${checkpoint}' is locked by process ${first.process.pid} `),
    )
    assert.equal((await sameDir.exited).code, 2)

    // Without a checkpoint it resumes from the sink's offsets: where batch 1 ended, the start of
    // batch 2 — which is still in flight in the first instance, so it plans the same ranges.
    const second = start(world.env(topic, rate))
    assert.deepEqual(await storedOffsetsOf(second), untilOffsetsOf(rangesOf(first, 1)))
    await second.waitFor((l) => l.startsWith('ranges:0:'))
    assert.deepEqual(rangesOf(second, 0), rangesOf(first, 2))
    await waitingForLock(world, second)

    first.resume()
    const fenced = await second.failure()
    assert.equal(fenced.code, ErrorCodes.BATCH_FAILED)
    if (engine === 'sqlite' && fenced.cause.code === ErrorCodes.SINK_OFFSET_MISMATCH) {
      // SQLite's busy wait is not a queue: the resumed first instance may commit batch 3 too
      // before the second one's retry gets the lock, which then finds offsets past its batch.
      assert.ok(
        String(fenced.cause.message).startsWith(
          `batch 0 of app '${world.app}' does not line up with the offsets in `,
        ),
      )
    } else {
      assert.equal(fenced.cause.code, ErrorCodes.FENCED)
      assert.equal(
        fenced.cause.message,
        `batch 0 of app '${world.app}' was already applied by another instance (table ${world.offsetsTable} holds ` +
          'its until-offsets) although this run is not a replay; this instance has been fenced and must stop',
      )
    }
    assert.match(fenced.message, /^batch 0 \(time \d+\) failed in output operation #1 \(foreachBatch\): /)
    assert.equal((await second.exited).code, 3)
    assert.deepEqual(outcomes(second), [], 'the second instance applied nothing')

    await finishRun(first)
    assert.deepEqual(await world.counts(), countWords(lines))
    assert.deepEqual(await world.stored(), endOffsets(topic, partitions, lineCount))
  })

  test(`${engine}: an instance that stalls before its transaction while a new one takes over is refused when it wakes`, {
    timeout: 120_000,
  }, async (t) => {
    const start = jobStarter(t, fixtures.sinkWordCount)
    const world = await sqlJobWorld(t, engine)
    const client = testClient(t)
    const topic = await createTestTopic(t, client, { partitions })
    const lines = wordLines(lineCount, 11)
    await produceLines(client, topic, partitions, lines)

    // The old instance computed batch 2 and stalls (a long GC pause, a lost network) before writing it.
    const old = start(
      world.env(topic, {
        ...rate,
        CHECKPOINT: join(tempDir(t, 'sink-stream'), 'checkpoint'),
        PAUSE_AT: 'before-transaction:2',
        PAUSE_MODE: 'resume',
      }),
    )
    await old.waitFor('paused before-transaction:2')

    // A new instance (its own checkpoint or none) takes over from the sink's offsets and writes two batches.
    const replacement = start(world.env(topic, { ...rate, PAUSE_AT: 'after-commit:1', PAUSE_MODE: 'resume' }))
    await replacement.waitFor('paused after-commit:1')
    assert.deepEqual(rangesOf(replacement, 0), rangesOf(old, 2))
    assert.deepEqual(outcomes(replacement), ['outcome:0:first:applied', 'outcome:1:first:applied'])

    // The old instance wakes up: its batch 2 overlaps what the new one wrote, so nothing is written.
    old.resume()
    const refused = await old.failure()
    const mine = rangesOf(old, 2)[0]!
    const theirs = rangesOf(replacement, 1)[0]!
    assert.equal(refused.code, ErrorCodes.BATCH_FAILED)
    assert.equal(refused.cause.code, ErrorCodes.SINK_OFFSET_MISMATCH)
    assert.equal(
      refused.cause.message,
      `batch 2 of app '${world.app}' does not line up with the offsets in table ${world.offsetsTable}: ` +
        `it reads ${topic}-0 [${mine.fromOffset}, ${mine.untilOffset}) but ${topic}-0 has stored offset ${theirs.untilOffset} ` +
        `(expected ${mine.fromOffset} before the batch, or ${mine.untilOffset} after it); ` +
        `records before offset ${theirs.untilOffset} were already written by another run: another instance of app '${world.app}' ` +
        'is writing (a second deployment, or this instance stalled and was replaced), or this stream restarted from ' +
        'an older checkpoint; this instance must stop; nothing was written',
    )
    assert.equal((await old.exited).code, 3)

    replacement.resume()
    await finishRun(replacement)
    assert.deepEqual(await world.counts(), countWords(lines))
    assert.deepEqual(await world.stored(), endOffsets(topic, partitions, lineCount))
  })
}
