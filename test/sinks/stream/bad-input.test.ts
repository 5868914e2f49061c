import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { startKafkaWordCount } from '../../../examples/wordcount-kafka.ts'
import { startSqlWordCount } from '../../../examples/wordcount-sql.ts'
import { ErrorCodes, type SluiceError } from '../../../src/core/errors.ts'
import { silentLogger } from '../../../src/core/logger.ts'
import type { OffsetRange } from '../../../src/kafka/offset-range.ts'
import { freePort } from '../../../src/local-servers/ports.ts'
import type { Batch } from '../../../src/stream/batch.ts'
import { eventually } from '../../helpers/eventually.ts'
import { bootstrap, createTestTopic, testClient } from '../../helpers/kafka.ts'
import { tempDir } from '../../helpers/temp-dir.ts'
import { countWords, linesIn, produceLines, wordLines } from '../../helpers/words.ts'
import { engines } from '../sql/fixtures.ts'
import { kafkaJobWorld } from './kafka-job.ts'
import { sqlJobWorld } from './sql-job.ts'

const partitions = 2
const lineCount = 4_000 // 2,000 per partition: 4 batches of 500 per partition
const stream = { batchInterval: 100, maxRatePerPartition: 5000, logger: silentLogger }

const linesOf = (lines: readonly string[], ranges: readonly OffsetRange[]) =>
  linesIn(lines, partitions, ranges)

function untilOffsets(ranges: readonly OffsetRange[]): Record<string, Record<number, bigint>> {
  return { [ranges[0]!.topic]: Object.fromEntries(ranges.map((r) => [r.partition, r.untilOffset])) }
}

async function topicWithLines(t: TestContext): Promise<{ topic: string; lines: string[] }> {
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions })
  const lines = wordLines(lineCount, 23)
  await produceLines(client, topic, partitions, lines)
  return { topic, lines }
}

/** A write function that fails on batch 2, after it wrote its rows or records. */
function failOnBatch2(failure: Error) {
  return {
    inTransaction: (batch: Batch) => {
      if (batch.id === 2) throw failure
    },
  }
}

/** The stream stopped because batch 2's write function threw: BATCH_FAILED over SINK over the error. */
function stoppedAtBatch2(app: string, failure: Error) {
  return (error: SluiceError) => {
    assert.equal(error.code, ErrorCodes.BATCH_FAILED)
    assert.equal(error.details.batchId, 2)
    assert.match(
      error.message,
      new RegExp(
        `^batch 2 \\(time \\d+\\) failed in output operation #1 \\(foreachBatch\\): batch 2 of app '${app}' ` +
          `was not written: the write function failed: ${failure.message}; nothing of the batch was applied\\. ` +
          'It was not committed; a restart re-runs its ranges: ',
      ),
    )
    const sinkError = error.cause as SluiceError
    assert.equal(sinkError.code, ErrorCodes.SINK)
    assert.equal(sinkError.details.batchId, 2)
    assert.equal(sinkError.cause, failure)
    return true
  }
}

for (const engine of engines) {
  test(`${engine}: a write function that throws rolls the batch back and stops the stream naming the batch`, async (t) => {
    const { topic, lines } = await topicWithLines(t)
    const world = await sqlJobWorld(t, engine)
    const options = {
      ...stream,
      brokers: bootstrap(),
      topic,
      app: world.app,
      database: world.database,
      table: world.countsTable,
      offsetsTable: world.offsetsTable,
    }
    const batches: Batch[] = []
    const failure = new Error('cannot store the counts: value out of range')
    const job = await startSqlWordCount({
      ...options,
      hooks: failOnBatch2(failure),
      listeners: [{ onBatchStarted: (batch) => batches.push(batch) }],
    })
    await assert.rejects(job.done, stoppedAtBatch2(world.app, failure))

    // Batch 2's rows and offsets were rolled back: only batches 0 and 1 are in the tables.
    assert.deepEqual(
      batches.map((b) => b.id),
      [0, 1, 2],
    )
    assert.deepEqual(
      await world.counts(),
      countWords(linesOf(lines, [...batches[0]!.offsetRanges, ...batches[1]!.offsetRanges])),
    )
    assert.deepEqual(await world.stored(), untilOffsets(batches[1]!.offsetRanges))

    // Fixed and restarted (no checkpoint), it runs batch 2's ranges again and counts everything once.
    const restarted: Batch[] = []
    const fixed = await startSqlWordCount({
      ...options,
      listeners: [{ onBatchStarted: (b) => restarted.push(b) }],
    })
    await eventually(async () => sameTotals(await world.counts(), countWords(lines)), 'every count', {
      timeoutMs: 60_000,
    })
    await fixed.ssc.stop()
    await fixed.done
    assert.deepEqual(restarted[0]!.offsetRanges, batches[2]!.offsetRanges)
    assert.deepEqual(await world.counts(), countWords(lines))
  })
}

/** How the sink names its database in messages. */
function targetOf(database: { sqlite?: { path: string }; postgres?: { connectionString: string } }): string {
  if (database.sqlite) return `SQLite file ${database.sqlite.path}`
  const url = new URL(database.postgres!.connectionString)
  return `PostgreSQL at ${url.hostname}:${url.port}${url.pathname}`
}

function sameTotals(a: Map<string, number>, b: Map<string, number>): boolean {
  return a.size === b.size && [...b].every(([word, n]) => a.get(word) === n)
}

test('kafka: a write function that throws aborts the transaction and stops the stream naming the batch', async (t) => {
  const { topic, lines } = await topicWithLines(t)
  const client = testClient(t)
  const world = await kafkaJobWorld(t, client)
  const options = { ...stream, brokers: bootstrap(), topic, app: world.app, outputTopic: world.outputTopic }
  const batches: Batch[] = []
  const failure = new Error('cannot serialize the counts')
  const job = await startKafkaWordCount({
    ...options,
    hooks: failOnBatch2(failure),
    listeners: [{ onBatchStarted: (batch) => batches.push(batch) }],
  })
  await assert.rejects(job.done, stoppedAtBatch2(world.app, failure))

  // Batch 2's records were produced, then aborted: read_committed readers see batches 0 and 1 only.
  const applied = linesOf(lines, [...batches[0]!.offsetRanges, ...batches[1]!.offsetRanges])
  assert.deepEqual(await world.counts('read_committed'), countWords(applied))
  assert.deepEqual(await world.stored(), untilOffsets(batches[1]!.offsetRanges))
  assert.equal(
    (await world.records('read_uncommitted')) - (await world.records('read_committed')),
    countWords(linesOf(lines, batches[2]!.offsetRanges)).size,
  )

  const fixed = await startKafkaWordCount(options)
  await eventually(
    async () => sameTotals(await world.counts('read_committed'), countWords(lines)),
    'every count',
    { timeoutMs: 60_000 },
  )
  await fixed.ssc.stop()
  await fixed.done
  assert.deepEqual(await world.counts('read_committed'), countWords(lines))
})

for (const engine of engines) {
  test(`${engine}: a missing output table fails at start, before the stream reads or checkpoints anything`, async (t) => {
    const world = await sqlJobWorld(t, engine)
    const checkpoint = join(tempDir(t, 'sink-stream'), 'checkpoint')
    await assert.rejects(
      startSqlWordCount({
        ...stream,
        brokers: bootstrap(),
        topic: 'never-read',
        app: world.app,
        database: world.database,
        table: 'word_counts_not_created',
        offsetsTable: world.offsetsTable,
        checkpoint,
      }),
      {
        code: ErrorCodes.SINK,
        message:
          `table 'word_counts_not_created' that the SQL sink of app '${world.app}' requires does not exist in ` +
          `${targetOf(world.database)}; create it before starting the stream`,
      },
    )
    assert.equal(existsSync(checkpoint), false)
  })
}

test('postgres: an unreachable server or a malformed connection string fails at start, naming it', async (t) => {
  const checkpoint = join(tempDir(t, 'sink-stream'), 'checkpoint')
  const port = await freePort()
  const job = (connectionString: string) =>
    startSqlWordCount({
      ...stream,
      brokers: bootstrap(),
      topic: 'never-read',
      database: { postgres: { connectionString } },
      checkpoint,
    })
  await assert.rejects(job(`postgresql://app:secret@127.0.0.1:${port}/results`), (error: SluiceError) => {
    assert.equal(error.code, ErrorCodes.SINK)
    assert.equal(
      error.message,
      `cannot connect to PostgreSQL at 127.0.0.1:${port}/results: connect ECONNREFUSED 127.0.0.1:${port}`,
    )
    return true
  })
  await assert.rejects(job('postgresql://app@db.example:port/results'), {
    code: ErrorCodes.INVALID_OPTION,
    message: "createSqlSink: option 'postgres.connectionString' is not a valid postgresql:// URL",
  })
  assert.equal(existsSync(checkpoint), false)
})

test('sqlite: a database file that cannot be opened fails at start, naming it', async (t) => {
  const path = join(tempDir(t, 'sink-stream'), 'no-such-dir', 'counts.db')
  await assert.rejects(
    startSqlWordCount({
      ...stream,
      brokers: bootstrap(),
      topic: 'never-read',
      database: { sqlite: { path } },
    }),
    (error: SluiceError) => {
      assert.equal(error.code, ErrorCodes.SINK)
      assert.ok(error.message.startsWith(`cannot open SQLite file ${path}: `), error.message)
      return true
    },
  )
})
