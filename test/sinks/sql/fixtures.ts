import { randomBytes } from 'node:crypto'
import { chmodSync } from 'node:fs'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { type Logger, silentLogger } from '../../../src/core/logger.ts'
import type { SinkBatch } from '../../../src/sinks/batch.ts'
import type { SqlEngine } from '../../../src/sinks/sql/engine.ts'
import { PostgresEngine } from '../../../src/sinks/sql/postgres-engine.ts'
import { createSqlSink, type SqlSink } from '../../../src/sinks/sql/sql-sink.ts'
import type { SqlSinkOptions } from '../../../src/sinks/sql/sql-sink-options.ts'
import { SqliteEngine } from '../../../src/sinks/sql/sqlite-engine.ts'
import { eventually } from '../../helpers/eventually.ts'
import { pgUrl, randomTableName } from '../../helpers/postgres.ts'
import { recordingLogger } from '../../helpers/recording-logger.ts'
import { tempDir } from '../../helpers/temp-dir.ts'

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
  const dropped: string[] = [offsetsTable, `${offsetsTable}_lost`]
  const sinks: SqlSink[] = []
  let admin: SqlEngine | undefined
  // One cleanup, in dependency order: sinks, then tables, then the admin connection (then
  // the SQLite file's directory: added after this hook, so removed after it has run).
  t.after(async () => {
    for (const sink of sinks) await sink.close()
    if (engine === 'postgres')
      for (const table of dropped) await admin?.query(`DROP TABLE IF EXISTS "${table}"`)
    await admin?.close()
  })
  let database: SqlWorld['database']
  if (engine === 'sqlite') {
    const dir = tempDir(t, 'sql-sink')
    chmodSync(dir, 0o700)
    const path = join(dir, 'sink.db')
    database = { sqlite: { path } }
    admin = new SqliteEngine(path, 10_000, silentLogger)
  } else {
    database = { postgres: { connectionString: pgUrl() } }
    admin = new PostgresEngine(
      {
        connectionString: pgUrl(),
        maxConnections: 2,
        connectTimeoutMs: 10_000,
        applicationName: 'sluice-test-admin',
      },
      silentLogger,
    )
  }
  await admin.open()
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
 * touching this world's offsets table. Rejects after `timeoutMs` if no writer ever waits
 * (a sink that no longer takes the lock, say), so the test fails instead of hanging.
 */
export function lockWaitWatcher(
  world: SqlWorld,
  timeoutMs = 30_000,
): { logger: Logger; waiting: Promise<void> } {
  if (world.engine === 'sqlite') {
    const { logger, messages } = recordingLogger()
    const waiting = eventually(
      () => messages().includes('waiting for the SQLite write lock'),
      'a second SQLite writer to wait for the write lock',
      { timeoutMs },
    )
    return { logger, waiting }
  }
  const waiting = eventually(
    async () => {
      const rows = await world.rows(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1",
        [`%${world.offsetsTable}%`],
      )
      return rows[0]?.n === 1
    },
    `a PostgreSQL backend to wait for a lock on "${world.offsetsTable}"`,
    { timeoutMs },
  )
  return { logger: silentLogger, waiting }
}
