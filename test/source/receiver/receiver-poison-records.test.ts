// Records the receiver stream's deserializer refuses, against a real broker: each policy of
// onDeserializationError with and without the write-ahead log, the exact good records, the
// exact dead letters (read back with Kafka's own Java consumer), and a failed batch re-run
// from the log refusing the same records without counting or sending them twice.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes, isSluiceError } from '../../../src/core/errors.ts'
import type { KafkaRecord } from '../../../src/kafka/records.ts'
import type { FailedBatchInfo } from '../../../src/stream/batch.ts'
import { createTestTopic } from '../../helpers/kafka.ts'
import { comparable, deadLetter, poisonedTopic } from '../../helpers/poisoned-topic.ts'
import { recordingLogger } from '../../helpers/recording-logger.ts'
import { tempDir } from '../../helpers/temp-dir.ts'
import { consumeTopic } from '../../helpers/topic-reader.ts'
import { newGroup, type ReceiverJob, receiverJob } from './support.ts'

const skippedMessage = 'skipped a record that could not be deserialized'
/** The records of the poisoned topic: 16, two of them poison. */
const received = 16

function line(record: KafkaRecord<unknown, unknown>): string {
  return `record:${record.topic}-${record.partition}@${record.offset}=${JSON.stringify(record.value)}`
}

/** A receiver job on `topic` with string keys and JSON values. */
function jsonJob(options: Parameters<typeof receiverJob>[0]): ReceiverJob {
  return receiverJob({ deserializers: { key: 'string', value: 'json' as never }, ...options })
}

/**
 * Runs `job` until its batches have output `expected` records in all (`seen` may hold some
 * from an earlier run); each batch reads its RDD twice, as a job with two actions does.
 */
async function runUntil(job: ReceiverJob, seen: string[], expected: number): Promise<void> {
  job.stream.foreachBatch(async (rdd) => {
    const records = await rdd.collect()
    assert.equal(await rdd.count(), records.length, 'count() reads, leaving out what collect() left out')
    seen.push(...records.map(line))
  })
  job.ssc.addListener({
    onBatchCompleted: () => {
      if (seen.length >= expected) void job.ssc.stop()
    },
  })
  await job.ssc.start()
  await job.ssc.awaitTermination()
}

/** Runs `job` until a batch fails; returns the failure and the lines of the batches committed before it. */
async function runUntilFailure(job: ReceiverJob): Promise<{ failed: FailedBatchInfo; seen: string[] }> {
  const seen: string[] = []
  let failed: FailedBatchInfo | undefined
  job.ssc.addListener({
    onBatchFailed: (info) => {
      failed = info
    },
  })
  job.stream.foreachBatch(async (rdd) => {
    seen.push(...(await rdd.collect()).map(line))
  })
  await job.ssc.start()
  await assert.rejects(job.ssc.awaitTermination(), (error: unknown) => {
    assert.ok(isSluiceError(error, ErrorCodes.BATCH_FAILED), String(error))
    return true
  })
  assert.ok(failed !== undefined, 'listeners heard of the failed batch')
  return { failed, seen }
}

function failureNamesPoison(failed: FailedBatchInfo, topic: string): void {
  // Whichever block's task meets its poison record first; the direct stream's wording.
  assert.match(
    failed.error.message,
    new RegExp(
      `^batch ${failed.batchId} \\(time \\d+\\) failed in output operation #1 \\(foreachBatch\\): .*` +
        `could not deserialize the value of ${topic}-(0 at offset 3|1 at offset 6): Unexpected token`,
    ),
  )
}

const sum = (job: ReceiverJob, counter: 'skippedRecords' | 'deadLetteredRecords' | 'records') =>
  job.infos.reduce((n, info) => n + info[counter], 0)

test("with the write-ahead log, 'fail' stops naming topic, partition and offset and leaves the batch uncommitted; restarted with 'skip', the batch re-read from the log skips exactly the poison records", {
  timeout: 60_000,
}, async (t) => {
  const { topic, good } = await poisonedTopic(t)
  const groupId = newGroup()
  const checkpoint = tempDir(t, 'receiver-poison')
  const failing = jsonJob({ topic, groupId, checkpoint, writeAheadLog: true })
  const { failed, seen } = await runUntilFailure(failing)
  failureNamesPoison(failed, topic)
  assert.equal(failed.progress.status, 'failed')
  assert.equal(
    failing.infos.some((info) => info.id === failed.batchId),
    false,
    'the failed batch was not committed',
  )

  const log = recordingLogger('warn')
  const skipping = jsonJob({
    topic,
    groupId,
    checkpoint,
    writeAheadLog: true,
    onDeserializationError: 'skip',
    logger: log.logger,
  })
  await runUntil(skipping, seen, good.length)
  assert.equal(skipping.stream.recovery.redeliveredRecords, 0, 'the failing run committed what it logged')
  assert.equal(skipping.stream.stats.receivedRecords, 0, 'every record came from the write-ahead log')
  assert.deepEqual(
    [skipping.infos[0]!.id, skipping.infos[0]!.replay],
    [failed.batchId, true],
    'the failed batch is re-run first, with the blocks it was planned with',
  )
  assert.deepEqual(seen.sort(), [...good].sort(), 'every good record exactly once over both runs')
  assert.equal(sum(failing, 'skippedRecords') + sum(skipping, 'skippedRecords'), 2)
  assert.equal(
    sum(failing, 'records') + sum(skipping, 'records'),
    received,
    'the input counts the poison records too',
  )
  for (const info of skipping.infos) assert.equal(info.progress.skippedRecords, info.skippedRecords)
  assert.deepEqual(
    log.entries
      .filter((e) => e.msg === skippedMessage)
      .map((e) => [e.topic, e.partition, e.offset, e.input])
      .sort(),
    [
      [topic, 0, '3', 'kafka-receiver-0'],
      [topic, 1, '6', 'kafka-receiver-0'],
    ],
    'each logged once with its coordinates, though its batch was read twice',
  )
  assert.ok(
    log.entries.every((e) => e.msg !== skippedMessage || /^Unexpected token/.test(String(e.error))),
    'the log names the error',
  )
})

test("without the write-ahead log, 'fail' stops naming the record, and 'skip' leaves out exactly the poison records, counted in BatchInfo and the progress record", {
  timeout: 60_000,
}, async (t) => {
  const { topic, good } = await poisonedTopic(t)
  const { failed, seen: beforeFailure } = await runUntilFailure(jsonJob({ topic, groupId: newGroup() }))
  failureNamesPoison(failed, topic)
  assert.ok(beforeFailure.every((l) => good.includes(l)))

  const log = recordingLogger('warn')
  const skipping = jsonJob({ topic, groupId: newGroup(), onDeserializationError: 'skip', logger: log.logger })
  const seen: string[] = []
  await runUntil(skipping, seen, good.length)
  assert.deepEqual(seen.sort(), [...good].sort())
  assert.equal(sum(skipping, 'skippedRecords'), 2)
  assert.equal(sum(skipping, 'deadLetteredRecords'), 0)
  assert.equal(sum(skipping, 'records'), received)
  for (const info of skipping.infos) assert.equal(info.progress.skippedRecords, info.skippedRecords)
  assert.equal(log.entries.filter((e) => e.msg === skippedMessage).length, 2)
})

test('a dead-letter topic gets exactly the poison records, with and without the write-ahead log; a batch that failed after finding them sends them once when re-run from the log', {
  timeout: 90_000,
}, async (t) => {
  for (const writeAheadLog of [true, false]) {
    const { client, topic, good } = await poisonedTopic(t)
    const dlq = await createTestTopic(t, client, { partitions: 1, prefix: 'dlq' })
    const groupId = newGroup()
    const onDeserializationError = { deadLetterTopic: dlq }
    const seen: string[] = []
    let failedRun: ReceiverJob | undefined
    if (writeAheadLog) {
      // The output fails once the batch has found dead letters, before the stream sends them.
      const checkpoint = tempDir(t, 'receiver-dlq')
      failedRun = jsonJob({ topic, groupId, checkpoint, writeAheadLog, onDeserializationError })
      failedRun.stream.foreachBatch(async (rdd, batch) => {
        const records = (await rdd.collect()).map(line)
        if (batch.deadLetters.pending().length > 0) throw new Error('the output is down')
        seen.push(...records)
      })
      await failedRun.ssc.start()
      await assert.rejects(failedRun.ssc.awaitTermination(), /the output is down/)
      assert.equal(sum(failedRun, 'deadLetteredRecords'), 0)
      const again = jsonJob({ topic, groupId, checkpoint, writeAheadLog, onDeserializationError })
      await runUntil(again, seen, good.length)
      assert.equal(again.infos[0]!.replay, true, 'the failed batch is re-run first')
      failedRun = again
    } else {
      failedRun = jsonJob({ topic, groupId, onDeserializationError })
      await runUntil(failedRun, seen, good.length)
    }
    const job = failedRun
    assert.deepEqual(seen.sort(), [...good].sort(), `writeAheadLog: ${writeAheadLog}: every good record once`)
    assert.equal(sum(job, 'deadLetteredRecords'), 2)
    assert.equal(sum(job, 'skippedRecords'), 0)
    const letters = await consumeTopic(dlq)
    // Each letter names the batch that found it, whose BatchInfo counts it.
    const batchOf = (l: (typeof letters)[number]) => Number(Object.fromEntries(l.headers!)['sluice.batch.id'])
    for (const letter of letters) {
      const found = job.infos.find((info) => info.id === batchOf(letter))
      assert.equal(found?.deadLetteredRecords, letters.filter((l) => batchOf(l) === batchOf(letter)).length)
    }
    assert.deepEqual(
      letters.map(comparable).sort((a, b) => (a.key! < b.key! ? -1 : 1)),
      [
        deadLetter(
          topic,
          0,
          3,
          'receiver-test',
          batchOf(letters.find((l) => l.key === 'k0-3')!),
          'kafka-receiver-0',
        ),
        deadLetter(
          topic,
          1,
          6,
          'receiver-test',
          batchOf(letters.find((l) => l.key === 'k1-6')!),
          'kafka-receiver-0',
        ),
      ],
      `writeAheadLog: ${writeAheadLog}: the raw key, value and headers of each poison record, once`,
    )
    for (const letter of letters) {
      assert.match(
        Object.fromEntries(letter.headers!)['sluice.error.message']!,
        new RegExp(`^could not deserialize the value of ${topic}-\\d at offset \\d: Unexpected token`),
      )
    }
  }
})
