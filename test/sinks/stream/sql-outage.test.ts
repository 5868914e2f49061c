import assert from 'node:assert/strict'
import { type TestContext, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { countsTableDdl } from '../../../examples/wordcount-sql.ts'
import { ErrorCodes } from '../../../src/core/errors.ts'
import { silentLogger } from '../../../src/core/logger.ts'
import { type LocalPostgres, startLocalPostgres } from '../../../src/local-postgres/server.ts'
import { type ChildJob, finishRun, fixtures, jobStarter, outcomes } from '../../helpers/child-job.ts'
import { bootstrap, createTestTopic, randomTopicName, testClient } from '../../helpers/kafka.ts'
import { randomTableName } from '../../helpers/postgres.ts'
import { tempDir } from '../../helpers/temp-dir.ts'
import { countWords, produceLines, sorted, wordLines } from '../../helpers/words.ts'

// PostgreSQL stopped and restarted under a running word count (examples/wordcount-sql.ts in
// a child process). The server is the test's own: it is stopped, crashed and started again.

const partitions = 4
const lineCount = 24_000 // 6,000 per partition: 6 batches of 1,000 per partition

let server: LocalPostgres | undefined
test.after(async () => {
  await server?.stop()
})

async function outageWorld(t: TestContext) {
  // Synchronous commits: a crash must keep what the sink committed (the throwaway default does not).
  server ??= await startLocalPostgres({ logger: silentLogger, settings: { synchronous_commit: 'on' } })
  const postgres = server
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions })
  const lines = wordLines(lineCount)
  await produceLines(client, topic, partitions, lines)
  const table = randomTableName('counts')
  const offsetsTable = randomTableName('offsets')
  const query = async (sql: string, params: unknown[] = []) => {
    const connection = new pg.Client({ connectionString: postgres.url })
    await connection.connect()
    try {
      return (await connection.query(sql, params)).rows
    } finally {
      await connection.end()
    }
  }
  await query(countsTableDdl('postgres', table))
  t.after(async () => {
    for (const name of [table, offsetsTable, `${offsetsTable}_lost`])
      await query(`DROP TABLE IF EXISTS "${name}"`)
  })
  return {
    postgres,
    expected: countWords(lines),
    env: (extra: Record<string, string>) => ({
      SINK: 'postgres',
      KAFKA_BOOTSTRAP: bootstrap().join(','),
      TOPIC: topic,
      APP: randomTopicName('outage'),
      PG_URL: postgres.url,
      TABLE: table,
      OFFSETS_TABLE: offsetsTable,
      BATCH_INTERVAL: '200',
      MAX_RATE: '5000',
      ...extra,
    }),
    counts: async () =>
      sorted(
        new Map((await query(`SELECT word, count FROM "${table}"`)).map((r) => [r.word, Number(r.count)])),
      ),
  }
}

/** Resolves once the sink has logged that it retries (the fixture passes warnings to stderr). */
async function retrying(job: ChildJob): Promise<void> {
  while (!job.stderr.includes('a transient database failure; retrying')) {
    if (job.process.exitCode !== null) throw new Error(`the job exited: ${job.stderr}`)
    await sleep(20)
  }
}

/** Each batch reported applied exactly once, and nothing else. */
function assertAppliedOnce(jobs: ChildJob[]): void {
  const lines = jobs.flatMap(outcomes)
  const ids = lines.map((l) => Number(l.split(':')[1]))
  assert.equal(new Set(ids).size, ids.length, `one outcome per batch: ${lines.join(' ')}`)
}

test('postgres outages shorter than retryTimeoutMs, inside a transaction and between batches, fail no batch', {
  timeout: 300_000,
}, async (t) => {
  const start = jobStarter(t, fixtures.sinkWordCount)
  const world = await outageWorld(t)
  const job = start(
    world.env({ RETRY_TIMEOUT_MS: '60000', PAUSE_AT: 'in-transaction:2', PAUSE_MODE: 'resume' }),
  )
  await job.waitFor('paused in-transaction:2')
  // Batch 2's rows are written, not committed: the server goes away under the transaction.
  await world.postgres.stopServer('fast')
  job.resume()
  await retrying(job)
  await world.postgres.startServer()
  await job.waitFor('outcome:2:first:applied')

  // A crash of the server while the job runs on (idle pooled connections die too).
  await job.waitFor('committed:3')
  await world.postgres.stopServer('immediate')
  await sleep(1000)
  await world.postgres.startServer()

  await finishRun(job)
  assert.ok(!job.lines.some((l) => l.startsWith('stream-error')))
  assertAppliedOnce([job])
  assert.deepEqual(await world.counts(), world.expected)
})

test('a postgres outage longer than retryTimeoutMs stops the stream naming batch, database and cause; the restart resumes exactly', {
  timeout: 300_000,
}, async (t) => {
  const start = jobStarter(t, fixtures.sinkWordCount)
  const world = await outageWorld(t)
  const env = world.env({ RETRY_TIMEOUT_MS: '1500', CHECKPOINT: `${tempDir(t, 'sink-stream')}/checkpoint` })
  const job = start({ ...env, PAUSE_AT: 'in-transaction:2', PAUSE_MODE: 'resume' })
  await job.waitFor('paused in-transaction:2')
  await world.postgres.stopServer('fast')
  job.resume()
  const failure = await job.failure()
  await world.postgres.startServer()
  assert.equal(failure.code, ErrorCodes.BATCH_FAILED)
  assert.equal(failure.cause.code, ErrorCodes.SINK)
  assert.match(
    failure.cause.message!,
    new RegExp(
      `^batch 2 of app '${env.APP}' was not written: PostgreSQL at 127\\.0\\.0\\.1:${world.postgres.port}/sluice ` +
        'kept failing for 1500 ms \\(retryTimeoutMs, \\d+ attempts\\): .*ECONNREFUSED.*; nothing of the batch was applied',
    ),
  )
  assert.equal((await job.exited).code, 3)

  const restarted = start(env)
  await finishRun(restarted)
  assert.equal(outcomes(restarted)[0], 'outcome:2:replay:applied')
  assertAppliedOnce([job, restarted])
  assert.deepEqual(await world.counts(), world.expected)
})
