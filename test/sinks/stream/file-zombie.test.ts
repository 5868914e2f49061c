import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { ErrorCodes } from '../../../src/core/errors.ts'
import { finishRun, fixtures, jobStarter } from '../../helpers/child-job.ts'
import { bootstrap, createTestTopic, randomTopicName, testClient } from '../../helpers/kafka.ts'
import { tempDir } from '../../helpers/temp-dir.ts'
import { countWords, produceLines, wordLines } from '../../helpers/words.ts'
import { batchFiles, sumFiles } from './file-job.ts'

const partitions = 4
const lineCount = 24_000 // 6,000 per partition: 6 batches of 1,000 per partition

/** Two processes, one output directory: the word count of examples/wordcount-files.ts. */
async function fileJobWorld(t: TestContext) {
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions })
  const lines = wordLines(lineCount)
  await produceLines(client, topic, partitions, lines)
  const dir = tempDir(t, 'sink-stream')
  const out = join(dir, 'out')
  const app = randomTopicName('files')
  const env = (checkpoint: string, extra: Record<string, string> = {}) => ({
    SINK: 'files',
    KAFKA_BOOTSTRAP: bootstrap().join(','),
    TOPIC: topic,
    APP: app,
    OUT_DIR: out,
    CHECKPOINT: join(dir, checkpoint),
    BATCH_INTERVAL: '200',
    MAX_RATE: '5000',
    ...extra,
  })
  const expected = countWords(lines)
  return {
    app,
    out,
    expected,
    env,
    /** The files hold every count exactly once, one file per batch id from 0 on. */
    assertExact: () => {
      assert.deepEqual(sumFiles(out), expected)
      const ids = [...batchFiles(out).keys()].sort((a, b) => a - b)
      assert.deepEqual(
        ids,
        ids.map((_, i) => i),
      )
    },
  }
}

const fencedMessage = (batchId: number, app: string, dir: string, pid: number) =>
  new RegExp(
    `^batch ${batchId} of app '${app}' was not written: another instance took over the file sink directory ` +
      `'${dir}' \\(now owned by process ${pid} on host '${hostname()}' \\(owner since [0-9TZ:.-]+\\)\\); ` +
      'this instance has been fenced and must stop$',
  )

test('files: a zombie that stalled mid-batch while a replacement took over is FENCED before its rename; the output stays exact', {
  timeout: 300_000,
}, async (t) => {
  const start = jobStarter(t, fixtures.sinkWordCount)
  const world = await fileJobWorld(t)
  const env = world.env('checkpoint')
  // The old instance stalls with batch 3 computed, before writing it.
  const zombie = start({ ...env, PAUSE_AT: 'before-transaction:3', PAUSE_MODE: 'resume' })
  await zombie.waitFor('paused before-transaction:3')
  // Someone decided it was dead: deleted its checkpoint lock and started a replacement.
  rmSync(join(env.CHECKPOINT, 'lock'))
  const replacement = start(env)
  await replacement.waitFor('outcome:3:replay:applied')
  await replacement.waitFor('committed:4')

  zombie.resume()
  const failure = await zombie.failure()
  assert.equal(failure.code, ErrorCodes.BATCH_FAILED)
  assert.equal(failure.cause.code, ErrorCodes.FENCED)
  assert.match(failure.cause.message!, fencedMessage(3, env.APP, world.out, replacement.process.pid!))
  assert.ok(!zombie.lines.some((l) => l.startsWith('outcome:3:')), 'the zombie wrote nothing')

  await finishRun(replacement)
  world.assertExact()
})

test('files: a second deployment with its own checkpoint fences the first and is refused itself; the first resumes exact', {
  timeout: 300_000,
}, async (t) => {
  const start = jobStarter(t, fixtures.sinkWordCount)
  const world = await fileJobWorld(t)
  const first = start(world.env('checkpoint-1'))
  await first.waitFor('committed:2')
  // Same directory, another checkpoint: its batch ranges differ from the first one's.
  const second = start(world.env('checkpoint-2'))
  const refused = await second.failure()
  assert.equal(refused.cause.code, ErrorCodes.SINK_OFFSET_MISMATCH)
  assert.match(
    refused.cause.message!,
    new RegExp(
      `^batch 0 of app '.*' was not written: '${world.out}' already holds the output of batch \\d+, `,
    ),
  )
  assert.ok(!second.lines.some((l) => l.startsWith('outcome:')), 'the second deployment wrote nothing')

  const fenced = await first.failure()
  assert.equal(fenced.cause.code, ErrorCodes.FENCED)
  const batchId = Number(/^batch (\d+)/.exec(fenced.cause.message!)![1])
  assert.match(fenced.cause.message!, fencedMessage(batchId, world.app, world.out, second.process.pid!))

  // The first deployment's restart takes the directory back and finishes from its checkpoint.
  const restarted = start(world.env('checkpoint-1'))
  await finishRun(restarted)
  world.assertExact()
})
