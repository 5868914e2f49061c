import { invalidOption } from '../../core/errors.ts'
import { createLogger, type Logger } from '../../core/logger.ts'
import { tableNameProblem } from './sql-text.ts'

export interface SqliteOptions {
  /** The database file; created when missing (its directory must exist). */
  readonly path: string
  /** How long a batch waits for another writer's lock before failing (default 10 s). */
  readonly busyTimeoutMs?: number
}

export interface PostgresOptions {
  /** `postgresql://user:password@host:port/database`, or libpq's keyword/value form. */
  readonly connectionString: string
  /** Pool size (default 4): one connection per batch in flight, plus offset reads. */
  readonly maxConnections?: number
  /** How long opening a connection may take (default 10 s). */
  readonly connectTimeoutMs?: number
}

export interface SqlSinkOptions {
  /** The application's name: offsets are stored per app, so several apps can share a database. */
  readonly app: string
  /** Embedded SQLite (node:sqlite). Give this or `postgres`. */
  readonly sqlite?: SqliteOptions
  /** PostgreSQL through pg. Give this or `sqlite`. */
  readonly postgres?: PostgresOptions
  /** Tables the write function needs; `start()` fails naming the first one missing. */
  readonly tables?: readonly string[]
  /**
   * Where offsets are kept (default `sluice_offsets`), created by `start()` when missing,
   * together with `<offsetsTable>_lost` (ranges skipped because retention deleted them).
   */
  readonly offsetsTable?: string
  /**
   * How long a batch keeps retrying transient database failures — a lost or refused
   * connection, a server restarting, SQLite's lock held by another writer — counted from the
   * first failure (default 30 s). An outage shorter than this costs no failed batch.
   */
  readonly retryTimeoutMs?: number
  readonly logger?: Logger
}

export interface ResolvedSqlSinkOptions {
  readonly app: string
  readonly engine:
    | { readonly kind: 'sqlite'; readonly path: string; readonly busyTimeoutMs: number }
    | {
        readonly kind: 'postgres'
        readonly connectionString: string
        readonly maxConnections: number
        readonly connectTimeoutMs: number
      }
  readonly tables: readonly string[]
  readonly offsetsTable: string
  readonly retryTimeoutMs: number
  readonly logger: Logger
}

const defaults = {
  busyTimeoutMs: 10_000,
  maxConnections: 4,
  connectTimeoutMs: 10_000,
  offsetsTable: 'sluice_offsets',
  retryTimeoutMs: 30_000,
}

const known = new Set(['app', 'sqlite', 'postgres', 'tables', 'offsetsTable', 'retryTimeoutMs', 'logger'])

function positiveInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw invalidOption(name, `must be a positive integer, got ${String(value)}`)
  }
  return value
}

function object(name: string, value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidOption(name, 'must be an object')
  }
  return value as Record<string, unknown>
}

/** Validates SQL sink options once, at construction, and fills in defaults. */
export function resolveSqlSinkOptions(options: SqlSinkOptions): ResolvedSqlSinkOptions {
  const given = object('options', options)
  for (const key of Object.keys(given)) {
    if (!known.has(key))
      throw invalidOption(key, `is not an option of the SQL sink (known: ${[...known].join(', ')})`)
  }
  const app = given.app
  if (typeof app !== 'string' || app.trim() === '') throw invalidOption('app', 'must be a non-empty string')

  if ((given.sqlite === undefined) === (given.postgres === undefined)) {
    throw invalidOption(
      given.sqlite === undefined ? 'sqlite' : 'postgres',
      given.sqlite === undefined
        ? "or 'postgres' must be given: the SQL sink needs a database"
        : "and 'sqlite' cannot both be given: choose one database",
    )
  }
  let engine: ResolvedSqlSinkOptions['engine']
  if (given.sqlite !== undefined) {
    const sqlite = object('sqlite', given.sqlite)
    if (typeof sqlite.path !== 'string' || sqlite.path === '') {
      throw invalidOption('sqlite.path', 'must be a non-empty file path')
    }
    engine = {
      kind: 'sqlite',
      path: sqlite.path,
      busyTimeoutMs: positiveInteger('sqlite.busyTimeoutMs', sqlite.busyTimeoutMs, defaults.busyTimeoutMs),
    }
  } else {
    const postgres = object('postgres', given.postgres)
    const connectionString = postgres.connectionString
    if (typeof connectionString !== 'string' || connectionString.trim() === '') {
      throw invalidOption('postgres.connectionString', 'must be a non-empty string')
    }
    if (/^postgres(ql)?:/i.test(connectionString) && !URL.canParse(connectionString)) {
      throw invalidOption('postgres.connectionString', 'is not a valid postgresql:// URL')
    }
    engine = {
      kind: 'postgres',
      connectionString,
      maxConnections: positiveInteger(
        'postgres.maxConnections',
        postgres.maxConnections,
        defaults.maxConnections,
      ),
      connectTimeoutMs: positiveInteger(
        'postgres.connectTimeoutMs',
        postgres.connectTimeoutMs,
        defaults.connectTimeoutMs,
      ),
    }
  }

  const tables = given.tables ?? []
  if (!Array.isArray(tables)) throw invalidOption('tables', 'must be an array of table names')
  tables.forEach((table, index) => {
    const problem = tableNameProblem(table)
    if (problem !== undefined) throw invalidOption(`tables[${index}]`, problem)
  })
  const offsetsTable = given.offsetsTable ?? defaults.offsetsTable
  const problem = tableNameProblem(offsetsTable)
  if (problem !== undefined) throw invalidOption('offsetsTable', problem)

  return {
    app,
    engine,
    tables: [...(tables as string[])],
    offsetsTable: offsetsTable as string,
    retryTimeoutMs: positiveInteger('retryTimeoutMs', given.retryTimeoutMs, defaults.retryTimeoutMs),
    logger: (given.logger as Logger | undefined) ?? createLogger(),
  }
}
