// Records whose value cannot be deserialized, against a real broker: each policy of
// onDeserializationError, the exact good records and the exact dead letters (read back with
// Kafka's own Java consumer), and exactly-once dead letters through the Kafka sink across SIGKILLs.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { test } from 'node:test'
import { ErrorCodes, type SluiceError } from '../../src/core/errors.ts'
import { OffsetRange } from '../../src/kafka/offset-range.ts'
import { createRDD } from '../../src/source/create-rdd.ts'
import { type ChildJob, caughtUp, fixtures, jobStarter } from '../helpers/child-job.ts'
import { bootstrap, createTestTopic } from '../helpers/kafka.ts'
import { comparable, deadLetter, poisonedTopic } from '../helpers/poisoned-topic.ts'
import { recordingLogger } from '../helpers/recording-logger.ts'
import { tempDir } from '../helpers/temp-dir.ts'
import { consumeTopic } from '../helpers/topic-reader.ts'

const recordLines = (job: ChildJob) => job.lines.filter((l) => l.startsWith('record:'))

test("'fail' (the default) stops the stream naming topic, partition and offset; restarted with 'skip', the pending batch skips exactly that record", async (t) => {
  const start = jobStarter(t, fixtures.records)
  const { topic, good } = await poisonedTopic(t)
  const env = {
    TOPIC: topic,
    APP: `poison-${randomBytes(4).toString('hex')}`,
    CHECKPOINT: join(tempDir(t, 'poison'), 'ckpt'),
    VALUE: 'json',
  }
  const failing = start(env)
  const error = await failing.failure()
  assert.equal((await failing.exited).code, 3)
  assert.equal(error.code, ErrorCodes.BATCH_FAILED)
  assert.match(error.message, /^batch 0 \(time \d+\) failed in output operation #1 \(foreachBatch\): /)
  // Whichever partition's task meets its poison record first.
  assert.match(
    error.message,
    new RegExp(`could not deserialize the value of ${topic}-(0 at offset 3|1 at offset 6)`),
  )
  assert.deepEqual(recordLines(failing), [], 'the failed batch printed nothing')

  const skipping = start({ ...env, ON_ERROR: 'skip' })
  await caughtUp(skipping)
  skipping.process.kill('SIGTERM')
  assert.equal((await skipping.exited).code, 0, skipping.describe())
  assert.deepEqual(recordLines(skipping), good, 'every good record once, in order')
  assert.ok(skipping.lines.includes('counts:0:skipped=2:deadLettered=0'), skipping.describe())
  assert.deepEqual(skipping.lines.filter((l) => l.startsWith('logged:')).sort(), [
    `logged:${topic}-0@3`,
    `logged:${topic}-1@6`,
  ])
  assert.match(
    skipping.stderr,
    /"msg":"skipped a record that could not be deserialized".*"error":"Unexpected token/,
  )
})

test('a dead-letter topic gets the raw key, value and headers with where each came from; good records go on', async (t) => {
  const start = jobStarter(t, fixtures.records)
  const { client, topic, good } = await poisonedTopic(t)
  const dlq = await createTestTopic(t, client, { partitions: 1, prefix: 'dlq' })
  const app = `dlq-${randomBytes(4).toString('hex')}`
  const job = start({
    TOPIC: topic,
    APP: app,
    CHECKPOINT: join(tempDir(t, 'poison'), 'ckpt'),
    VALUE: 'json',
    ON_ERROR: `dlq:${dlq}`,
  })
  await caughtUp(job)
  job.process.kill('SIGTERM')
  assert.equal((await job.exited).code, 0, job.describe())
  assert.deepEqual(recordLines(job), good)
  assert.ok(job.lines.includes('counts:0:skipped=0:deadLettered=2'), job.describe())
  const letters = await consumeTopic(dlq)
  assert.deepEqual(letters.map(comparable), [
    deadLetter(topic, 0, 3, app, 0),
    deadLetter(topic, 1, 6, app, 0),
  ])
  for (const letter of letters) {
    const headers = Object.fromEntries(letter.headers!)
    const source =
      headers['sluice.source.offset'] === '3' ? `${topic}-0 at offset 3` : `${topic}-1 at offset 6`
    assert.match(
      headers['sluice.error.message']!,
      new RegExp(`^could not deserialize the value of ${source}: `),
    )
    assert.match(headers['sluice.source.timestamp']!, /^\d{13}$/)
  }
})

test('createRDD: skip leaves poison out of collect and count; a dead-letter topic gets each once, however often the range is read', async (t) => {
  const { client, topic } = await poisonedTopic(t)
  const dlq = await createTestTopic(t, client, { partitions: 1, prefix: 'dlq' })
  const ranges = [OffsetRange.create(topic, 0, 0n, 8n), OffsetRange.create(topic, 1, 2n, 8n)]
  const log = recordingLogger()
  const skipping = createRDD<string, { n: number }>(
    {
      brokers: bootstrap(),
      deserializers: { value: 'json' },
      onDeserializationError: 'skip',
      logger: log.logger,
    },
    ranges,
  )
  const values = (await skipping.collect()).map((r) => r.value!.n)
  assert.deepEqual(values, [0, 1, 2, 4, 5, 6, 7, 102, 103, 104, 105, 107])
  assert.equal(await skipping.count(), 12, 'counted by reading, not from the offsets')
  assert.deepEqual(skipping.readCounters(), { skippedRecords: 2, deadLetteredRecords: 0 })
  assert.deepEqual(
    log.entries
      .filter((e) => e.msg === 'skipped a record that could not be deserialized')
      .map((e) => [e.topic, e.partition, e.offset])
      .sort(),
    [
      [topic, 0, '3'],
      [topic, 1, '6'],
    ],
    'each logged once, though read twice',
  )

  const dead = createRDD<string, { n: number }>(
    {
      brokers: bootstrap(),
      deserializers: { key: 'string', value: 'json' },
      onDeserializationError: { deadLetterTopic: dlq },
    },
    ranges,
  )
  assert.equal(await dead.count(), 12)
  assert.equal((await dead.collect()).length, 12)
  assert.deepEqual(dead.readCounters(), { skippedRecords: 0, deadLetteredRecords: 2 })
  // Each task sends its own range's: in whichever order the tasks end.
  const letters = (await consumeTopic(dlq)).sort((a, b) => (a.key! < b.key! ? -1 : 1))
  assert.deepEqual(
    letters.map((l) => [l.key, l.value, Object.fromEntries(l.headers!)['sluice.source.offset']]),
    [
      ['k0-3', 'not json 0-3', '3'],
      ['k1-6', 'not json 1-6', '6'],
    ],
  )
  assert.ok(
    letters.every((l) => !l.headers!.some(([name]) => name === 'sluice.batch.id' || name === 'sluice.app')),
    'a batch job has no batch and no app',
  )

  const failing = createRDD(
    { brokers: bootstrap(), deserializers: { value: 'json' }, maxTaskAttempts: 1 },
    ranges,
  )
  await assert.rejects(failing.collect(), (error: SluiceError) => {
    assert.match(error.message, new RegExp(`could not deserialize the value of ${topic}-\\d at offset \\d`))
    return true
  })
})

test('onDeserializationError is checked at construction, naming the option', () => {
  const cases: [unknown, string][] = [
    [
      'drop',
      `createRDD: option 'onDeserializationError' must be 'fail', 'skip' or { deadLetterTopic: 'topic' }, got a string ("drop")`,
    ],
    [
      { deadLetterTopic: '' },
      `createRDD: option 'onDeserializationError.deadLetterTopic' must be a topic name, got a string ("")`,
    ],
    [
      { deadLetterTopik: 'x' },
      "createRDD: unknown option 'onDeserializationError.deadLetterTopik' — did you mean 'onDeserializationError.deadLetterTopic'?",
    ],
  ]
  for (const [value, message] of cases) {
    assert.throws(
      () => createRDD({ brokers: ['127.0.0.1:9'], onDeserializationError: value as never }, []),
      (error: SluiceError) => error.code === ErrorCodes.INVALID_OPTION && error.message === message,
      JSON.stringify(value),
    )
  }
})

test('dead letters through the Kafka sink appear exactly once across a SIGKILL inside the transaction and one after its commit', async (t) => {
  const start = jobStarter(t, fixtures.records)
  for (const kill of ['KILL_AT_SINK_STEP', 'PAUSE_AT'] as const) {
    const { client, topic, good } = await poisonedTopic(t)
    const dlq = await createTestTopic(t, client, { partitions: 1, prefix: 'dlq' })
    const out = await createTestTopic(t, client, { partitions: 1, prefix: 'out' })
    const app = `dlq-sink-${randomBytes(4).toString('hex')}`
    const env = {
      TOPIC: topic,
      APP: app,
      CHECKPOINT: join(tempDir(t, 'poison'), 'ckpt'),
      VALUE: 'json',
      ON_ERROR: `dlq:${dlq}`,
      SINK: 'kafka',
      OUT_TOPIC: out,
    }
    // Inside batch 0's transaction (the dead letters and output sent, the offsets committed, the
    // commit next), or after the sink committed it and before the checkpoint's commit: either
    // way the restart re-runs batch 0, which reads the same poison records again.
    const first = start({
      ...env,
      ...(kill === 'KILL_AT_SINK_STEP'
        ? { KILL_AT_SINK_STEP: 'offsets-committed:0' }
        : { PAUSE_AT: 'after-commit:0' }),
    })
    if (kill === 'KILL_AT_SINK_STEP') await first.waitFor('sink-step:offsets-committed:0')
    else await first.waitFor('paused after-commit:0')
    await first.kill()
    const second = start(env)
    await caughtUp(second)
    second.process.kill('SIGTERM')
    assert.equal((await second.exited).code, 0, second.describe())
    const expected =
      kill === 'KILL_AT_SINK_STEP' ? 'outcome:0:replay:applied' : 'outcome:0:replay:already-applied'
    assert.equal(
      second.lines.find((l) => l.startsWith('outcome:0:')),
      expected,
      second.describe(),
    )
    assert.ok(second.lines.includes('counts:0:skipped=0:deadLettered=2'), second.describe())
    const [output, letters] = [await consumeTopic(out), await consumeTopic(dlq)]
    assert.deepEqual(
      output.map((r) => `record:${r.key}=${r.value}`).sort(),
      good.map((line) => line).sort(),
      `${kill}: every good record exactly once`,
    )
    assert.deepEqual(
      letters.map(comparable),
      [deadLetter(topic, 0, 3, app, 0), deadLetter(topic, 1, 6, app, 0)],
      `${kill}: every dead letter exactly once`,
    )
  }
})
