import { randomBytes } from 'node:crypto'
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createLogger, type Logger, silentLogger } from '../../../src/core/logger.ts'
import type { SinkBatch } from '../../../src/sinks/batch.ts'
import type { SqlEngine } from '../../../src/sinks/sql/engine.ts'
import { PostgresEngine } from '../../../src/sinks/sql/postgres-engine.ts'
import { createSqlSink, type SqlSink } from '../../../src/sinks/sql/sql-sink.ts'
import type { SqlSinkOptions } from '../../../src/sinks/sql/sql-sink-options.ts'
import { SqliteEngine } from '../../../src/sinks/sql/sqlite-engine.ts'
import { pgUrl, randomTableName } from '../../helpers/postgres.ts'

export type EngineName = 'sqlite' | 'postgres'
export const engines: readonly EngineName[] = ['sqlite', 'postgres']

/**
 * One test's private database world: a fresh SQLite file, or the shared test PostgreSQL
 * with a random offsets table; random app name; tables dropped when the test ends.
 */
export interface SqlWorld {
  readonly engine: EngineName
  readonly app: string
  readonly offsetsTable: string
  readonly database: Pick<SqlSinkOptions, 'sqlite' | 'postgres'>
  /** A connection beside the sinks, to set up and to check what is really stored. */
  readonly admin: SqlEngine
  /** A started sink on this world's database (its own connection), closed at the end. */
  sink(extra?: Partial<SqlSinkOptions>): Promise<SqlSink>
  /** Creates a table with a random name (dropped at the end) and returns the name. */
  table(prefix: string, columns: string): Promise<string>
  rows(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>
}

export async function sqlWorld(t: TestContext, engine: EngineName): Promise<SqlWorld> {
  const app = `app-${randomBytes(4).toString('hex')}`
  const offsetsTable = randomTableName('offsets')
  let database: SqlWorld['database']
  let admin: SqlEngine
  let dir: string | undefined
  if (engine === 'sqlite') {
    dir = mkdtempSync(join(tmpdir(), 'sluice-sql-sink-'))
    chmodSync(dir, 0o700)
    const path = join(dir, 'sink.db')
    database = { sqlite: { path } }
    admin = new SqliteEngine(path, 10_000, silentLogger)
  } else {
    database = { postgres: { connectionString: pgUrl() } }
    admin = new PostgresEngine(
      { connectionString: pgUrl(), maxConnections: 2, connectTimeoutMs: 10_000 },
      silentLogger,
    )
  }
  await admin.open()
  const dropped: string[] = [offsetsTable, `${offsetsTable}_lost`]
  const sinks: SqlSink[] = []
  // One cleanup, in dependency order: sinks, then tables, then the admin connection, then the file.
  t.after(async () => {
    for (const sink of sinks) await sink.close()
    if (engine === 'postgres')
      for (const table of dropped) await admin.query(`DROP TABLE IF EXISTS "${table}"`)
    await admin.close()
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  })
  return {
    engine,
    app,
    offsetsTable,
    database,
    admin,
    sink: async (extra = {}) => {
      const sink = createSqlSink({ app, offsetsTable, logger: silentLogger, ...database, ...extra })
      sinks.push(sink)
      await sink.start()
      return sink
    },
    table: async (prefix, columns) => {
      const name = randomTableName(prefix)
      dropped.unshift(name)
      await admin.query(`CREATE TABLE "${name}" (${columns})`)
      return name
    },
    rows: async (sql, params = []) => (await admin.query(sql, params)).rows,
  }
}

type RangeTuple = [topic: string, partition: number, from: bigint, until: bigint]

const toRange = ([topic, partition, fromOffset, untilOffset]: RangeTuple) => ({
  topic,
  partition,
  fromOffset,
  untilOffset,
})

export function batch(id: number, ranges: RangeTuple[], replay = false, lost?: RangeTuple[]): SinkBatch {
  return {
    id,
    time: 1_700_000_000_000 + id * 1000,
    replay,
    offsetRanges: ranges.map(toRange),
    ...(lost === undefined ? {} : { lostRanges: lost.map(toRange) }),
  }
}

/**
 * Resolves once a second writer is provably waiting for the first one's lock: on SQLite
 * the sink logs its first busy retry; on PostgreSQL a backend waits on a lock while
 * touching this world's offsets table.
 */
export function lockWaitWatcher(world: SqlWorld): { logger: Logger; waiting: Promise<void> } {
  if (world.engine === 'sqlite') {
    const { promise, resolve } = Promise.withResolvers<void>()
    const logger = createLogger({
      level: 'debug',
      sink: (line) => {
        if (JSON.parse(line).msg === 'waiting for the SQLite write lock') resolve()
      },
    })
    return { logger, waiting: promise }
  }
  const waiting = (async () => {
    for (;;) {
      const rows = await world.rows(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1",
        [`%${world.offsetsTable}%`],
      )
      if (rows[0]?.n === 1) return
      await sleep(20)
    }
  })()
  return { logger: silentLogger, waiting }
}
