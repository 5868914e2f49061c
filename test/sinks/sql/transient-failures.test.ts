import assert from 'node:assert/strict'
import { DatabaseSync } from 'node:sqlite'
import { type TestContext, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { ErrorCodes, type SluiceError } from '../../../src/core/errors.ts'
import { type Logger, silentLogger } from '../../../src/core/logger.ts'
import { type LocalPostgres, startLocalPostgres } from '../../../src/local-postgres/server.ts'
import { createSqlSink, type SqlSink, type SqlTransaction } from '../../../src/sinks/sql/sql-sink.ts'
import { randomTableName } from '../../helpers/postgres.ts'
import { recordingLogger } from '../../helpers/recording-logger.ts'
import { commitCuttingProxy } from './commit-cutting-proxy.ts'
import { batch, sqlWorld } from './fixtures.ts'

// A database that goes away for a while must cost no failed batch when it is back within
// retryTimeoutMs, must never crash the process with an unhandled 'error' event, and must
// never apply a batch twice. These tests stop, restart and cut a PostgreSQL server of their
// own (the shared test server is left alone) and hold SQLite's write lock.

/**
 * One private server for the file: these tests stop it and start it again. Commits are
 * synchronous (the throwaway default is not), so a crash keeps what was committed.
 */
let server: LocalPostgres | undefined
async function privatePostgres(): Promise<LocalPostgres> {
  server ??= await startLocalPostgres({ logger: silentLogger, settings: { synchronous_commit: 'on' } })
  return server
}
test.after(async () => {
  await server?.stop()
})

interface PgWorld {
  readonly app: string
  readonly events: string
  readonly offsetsTable: string
  readonly admin: pg.Client
  sink(connectionString: string, retryTimeoutMs: number, logger?: Logger): Promise<SqlSink>
  words(): Promise<string[]>
}

/** Random tables on the private server, an admin connection beside the sinks, cleanup at the end. */
async function pgWorld(t: TestContext, postgres: LocalPostgres): Promise<PgWorld> {
  const app = randomTableName('app')
  const events = randomTableName('events')
  const offsetsTable = randomTableName('offsets')
  const admin = new pg.Client({ connectionString: postgres.url })
  admin.on('error', () => {}) // the server is stopped under it; every query says so anyway
  await admin.connect()
  await admin.query(`CREATE TABLE "${events}" (word TEXT NOT NULL)`)
  const sinks: SqlSink[] = []
  t.after(async () => {
    for (const sink of sinks) await sink.close()
    const cleanup = new pg.Client({ connectionString: postgres.url })
    await cleanup.connect()
    for (const table of [events, offsetsTable, `${offsetsTable}_lost`])
      await cleanup.query(`DROP TABLE IF EXISTS "${table}"`)
    await cleanup.end()
    await admin.end().catch(() => {})
  })
  return {
    app,
    events,
    offsetsTable,
    admin,
    sink: async (connectionString, retryTimeoutMs, logger = silentLogger) => {
      const sink = createSqlSink({
        app,
        postgres: { connectionString, connectTimeoutMs: 2000 },
        offsetsTable,
        tables: [events],
        retryTimeoutMs,
        logger,
      })
      sinks.push(sink)
      await sink.start()
      return sink
    },
    words: async () => {
      const reader = new pg.Client({ connectionString: postgres.url })
      await reader.connect()
      try {
        return (await reader.query(`SELECT word FROM "${events}" ORDER BY word`)).rows.map((r) => r.word)
      } finally {
        await reader.end()
      }
    },
  }
}

/** A write function that counts its calls and runs `during` (once) inside the first one. */
function countingWrite(events: string, word: string, during?: (tx: SqlTransaction) => Promise<void>) {
  const state = { calls: 0 }
  const write = async (tx: SqlTransaction) => {
    state.calls++
    await tx.append(events, [{ word }])
    if (state.calls === 1 && during) await during(tx)
    await tx.append(events, [{ word: `${word}-end` }])
  }
  return { state, write }
}

test('postgres: the batch connection killed inside the transaction (pg_terminate_backend) is retried and applied once', async (t) => {
  const postgres = await privatePostgres()
  const world = await pgWorld(t, postgres)
  const { logger, messages } = recordingLogger('warn')
  const sink = await world.sink(postgres.url, 20_000, logger)
  const { state, write } = countingWrite(world.events, 'b0', async (tx) => {
    const { rows } = await tx.query('SELECT pg_backend_pid() AS pid')
    await world.admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid])
  })
  assert.equal(await sink.writeBatch(batch(0, [['words', 0, 0n, 5n]]), write), 'applied')
  assert.equal(state.calls, 2, 'the killed attempt, then the one that committed')
  assert.deepEqual(await world.words(), ['b0', 'b0-end'])
  assert.deepEqual(await sink.storedOffsets(), { words: { 0: 5n } })
  assert.ok(messages().includes('a transient database failure; retrying'), messages().join(' | '))
})

test('postgres: idle pooled connections killed between batches cost nothing and crash nothing', async (t) => {
  const postgres = await privatePostgres()
  const world = await pgWorld(t, postgres)
  const sink = await world.sink(postgres.url, 20_000)
  await sink.writeBatch(batch(0, [['words', 0, 0n, 5n]]), countingWrite(world.events, 'b0').write)
  // Every connection but the admin's: the sink's idle pooled ones emit 'error' while nobody queries them.
  const { rows } = await world.admin.query(
    'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity ' +
      "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
  )
  assert.ok(rows[0].n >= 1)
  await sleep(100) // let the 'error' events arrive; an unhandled one would end the test process here
  assert.equal(
    await sink.writeBatch(batch(1, [['words', 0, 5n, 9n]]), countingWrite(world.events, 'b1').write),
    'applied',
  )
  assert.deepEqual(await world.words(), ['b0', 'b0-end', 'b1', 'b1-end'])
})

test('postgres: a server restart inside the transaction, shorter than retryTimeoutMs, fails no batch', async (t) => {
  const postgres = await privatePostgres()
  const world = await pgWorld(t, postgres)
  const sink = await world.sink(postgres.url, 60_000)
  await sink.writeBatch(batch(0, [['words', 0, 0n, 5n]]), countingWrite(world.events, 'b0').write)
  let restarted: Promise<void> | undefined
  const { state, write } = countingWrite(world.events, 'b1', async () => {
    await postgres.stopServer('fast')
    // Down for a second and a half, while the sink retries; then back with the same data.
    restarted = sleep(1500).then(() => postgres.startServer())
  })
  assert.equal(await sink.writeBatch(batch(1, [['words', 0, 5n, 9n]]), write), 'applied')
  await restarted
  assert.equal(state.calls, 2)
  assert.deepEqual(await world.words(), ['b0', 'b0-end', 'b1', 'b1-end'])
  assert.deepEqual(await sink.storedOffsets(), { words: { 0: 9n } })
})

test('postgres: a crash (immediate shutdown) between batches, shorter than retryTimeoutMs, fails no batch', async (t) => {
  const postgres = await privatePostgres()
  const world = await pgWorld(t, postgres)
  const sink = await world.sink(postgres.url, 60_000)
  await sink.writeBatch(batch(0, [['words', 0, 0n, 5n]]), countingWrite(world.events, 'b0').write)
  await postgres.stopServer('immediate')
  const restarted = sleep(1000).then(() => postgres.startServer())
  assert.equal(
    await sink.writeBatch(batch(1, [['words', 0, 5n, 9n]]), countingWrite(world.events, 'b1').write),
    'applied',
  )
  await restarted
  assert.deepEqual(await world.words(), ['b0', 'b0-end', 'b1', 'b1-end'])
})

test('postgres: an outage longer than retryTimeoutMs fails the batch naming batch, database and cause; the re-run applies it once', async (t) => {
  const postgres = await privatePostgres()
  const world = await pgWorld(t, postgres)
  const sink = await world.sink(postgres.url, 1500)
  await sink.writeBatch(batch(0, [['words', 0, 0n, 5n]]), countingWrite(world.events, 'b0').write)
  await postgres.stopServer('fast')
  try {
    await assert.rejects(
      sink.writeBatch(batch(1, [['words', 0, 5n, 9n]]), countingWrite(world.events, 'lost').write),
      (error: SluiceError) => {
        assert.equal(error.code, ErrorCodes.SINK)
        assert.equal(error.retriable, true)
        assert.match(
          error.message,
          new RegExp(
            `^batch 1 of app '${world.app}' was not written: PostgreSQL at 127\\.0\\.0\\.1:${postgres.port}/sluice ` +
              'kept failing for 1500 ms \\(retryTimeoutMs, \\d+ attempts\\): ' +
              `.*connect ECONNREFUSED 127\\.0\\.0\\.1:${postgres.port}.*; nothing of the batch was applied; ` +
              'restart when the database is back and the batch runs again$',
          ),
        )
        assert.deepEqual(
          { app: error.details.app, batchId: error.details.batchId, target: error.details.target },
          { app: world.app, batchId: 1, target: `PostgreSQL at 127.0.0.1:${postgres.port}/sluice` },
        )
        return true
      },
    )
  } finally {
    await postgres.startServer()
  }
  const replay = { ...batch(1, [['words', 0, 5n, 9n]]), replay: true }
  assert.equal(await sink.writeBatch(replay, countingWrite(world.events, 'b1').write), 'applied')
  assert.deepEqual(await world.words(), ['b0', 'b0-end', 'b1', 'b1-end'])
  assert.deepEqual(await sink.storedOffsets(), { words: { 0: 9n } })
})

test('postgres: COMMIT reached the server but its answer was lost; the retry reports already-applied, never applies twice', async (t) => {
  const postgres = await privatePostgres()
  const world = await pgWorld(t, postgres)
  const proxy = await commitCuttingProxy(t, { host: '127.0.0.1', port: postgres.port })
  const sink = await world.sink(`postgresql://postgres@127.0.0.1:${proxy.port}/sluice`, 20_000)
  await sink.writeBatch(batch(0, [['words', 0, 0n, 5n]]), countingWrite(world.events, 'b0').write)
  const cut = proxy.cutNextCommit()
  const { state, write } = countingWrite(world.events, 'b1')
  // Not a replay: only the check that the lost COMMIT was this sink's own keeps it from FENCED.
  assert.equal(await sink.writeBatch(batch(1, [['words', 0, 5n, 9n]]), write), 'already-applied')
  await cut
  assert.equal(state.calls, 1, 'the retry found the batch applied and did not run the write function')
  assert.deepEqual(await world.words(), ['b0', 'b0-end', 'b1', 'b1-end'])
  assert.deepEqual(await sink.storedOffsets(), { words: { 0: 9n } })
})

test('sqlite: a write lock held longer than busyTimeoutMs but shorter than retryTimeoutMs fails no batch', async (t) => {
  const world = await sqlWorld(t, 'sqlite')
  const events = await world.table('events', 'word TEXT NOT NULL')
  const sink = await world.sink({
    sqlite: { path: world.database.sqlite!.path, busyTimeoutMs: 50 },
    retryTimeoutMs: 20_000,
  })
  const other = new DatabaseSync(world.database.sqlite!.path)
  t.after(() => other.close())
  other.exec('BEGIN IMMEDIATE')
  const released = sleep(600).then(() => other.exec('COMMIT'))
  assert.equal(
    await sink.writeBatch(batch(0, [['words', 0, 0n, 3n]]), async (tx) =>
      tx.append(events, [{ word: 'b0' }]),
    ),
    'applied',
  )
  await released
  assert.deepEqual(await world.rows(`SELECT word FROM "${events}"`), [{ word: 'b0' }])
})

test('sqlite: a write lock held longer than retryTimeoutMs fails the batch naming batch, file and cause', async (t) => {
  const world = await sqlWorld(t, 'sqlite')
  const events = await world.table('events', 'word TEXT NOT NULL')
  const path = world.database.sqlite!.path
  const sink = await world.sink({ sqlite: { path, busyTimeoutMs: 50 }, retryTimeoutMs: 300 })
  const other = new DatabaseSync(path)
  t.after(() => other.close())
  other.exec('BEGIN IMMEDIATE')
  try {
    await assert.rejects(
      sink.writeBatch(batch(0, [['words', 0, 0n, 3n]]), async (tx) => tx.append(events, [{ word: 'b0' }])),
      (error: SluiceError) => {
        assert.equal(error.code, ErrorCodes.SINK)
        assert.equal(error.retriable, true)
        assert.match(
          error.message,
          new RegExp(
            `^batch 0 of app '${world.app}' was not written: SQLite file ${path.replaceAll('.', '\\.')} kept failing ` +
              'for 300 ms \\(retryTimeoutMs, \\d+ attempts\\): SQLite file .* stayed locked by another connection ' +
              'for 50 ms while taking the write lock \\(database is locked\\); nothing of the batch was applied',
          ),
        )
        return true
      },
    )
  } finally {
    other.exec('COMMIT')
  }
  assert.equal(
    await sink.writeBatch(batch(0, [['words', 0, 0n, 3n]], true), async (tx) =>
      tx.append(events, [{ word: 'b0' }]),
    ),
    'applied',
  )
  assert.deepEqual(await world.rows(`SELECT word FROM "${events}"`), [{ word: 'b0' }])
})
