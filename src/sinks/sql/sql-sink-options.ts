import { invalidOption } from '../../core/errors.ts'
import { createLogger, type Logger } from '../../core/logger.ts'
import {
  arrayOption,
  durationMs,
  loggerOption,
  nonEmptyString,
  optionsObject,
  parseOptions,
  positiveInteger,
  required,
  stringOption,
} from '../../core/options.ts'
import { tableNameProblem } from './sql-text.ts'

/** Where the SQL sink writes when it uses embedded SQLite (node:sqlite). */
export interface SqliteOptions {
  /** The database file; created when missing (its directory must exist). */
  readonly path: string
  /** How long a batch waits for another writer's lock before failing (default 10 s). */
  readonly busyTimeoutMs?: number
}

/** Where the SQL sink writes when it uses PostgreSQL. */
export interface PostgresOptions {
  /** `postgresql://user:password@host:port/database`, or libpq's keyword/value form. */
  readonly connectionString: string
  /** Pool size (default 4): one connection per batch in flight, plus offset reads. */
  readonly maxConnections?: number
  /** How long opening a connection may take (default 10 s). */
  readonly connectTimeoutMs?: number
}

/** Options of `createSqlSink`: the app, one database (`sqlite` or `postgres`) and the tables it needs. */
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

const tableName = stringOption({
  expected: "a table name ('table' or 'schema.table')",
  problem: tableNameProblem,
})

const sqliteOptions = optionsObject({
  path: required(stringOption({ expected: 'a file path' })),
  busyTimeoutMs: durationMs(),
})

const postgresOptions = optionsObject({
  connectionString: required(
    stringOption({
      problem: (url) =>
        /^postgres(ql)?:/i.test(url) && !URL.canParse(url) ? 'is not a valid postgresql:// URL' : undefined,
    }),
  ),
  maxConnections: positiveInteger,
  connectTimeoutMs: durationMs(),
})

const sqlSinkOptions = optionsObject(
  {
    app: required(nonEmptyString),
    sqlite: sqliteOptions,
    postgres: postgresOptions,
    tables: arrayOption(tableName, { expected: 'an array of table names' }),
    offsetsTable: tableName,
    retryTimeoutMs: durationMs(),
    logger: loggerOption,
  },
  (options) => {
    if ((options.sqlite === undefined) === (options.postgres === undefined)) {
      throw options.sqlite === undefined
        ? invalidOption('sqlite', "or 'postgres' must be given: the SQL sink needs a database")
        : invalidOption('postgres', "and 'sqlite' cannot both be given: choose one database")
    }
  },
)

/** Validates SQL sink options once, at construction, and fills in defaults. */
export function resolveSqlSinkOptions(options: SqlSinkOptions): ResolvedSqlSinkOptions {
  const given = parseOptions(sqlSinkOptions, options, 'createSqlSink')
  const engine: ResolvedSqlSinkOptions['engine'] = given.sqlite
    ? { kind: 'sqlite', busyTimeoutMs: defaults.busyTimeoutMs, ...given.sqlite }
    : {
        kind: 'postgres',
        maxConnections: defaults.maxConnections,
        connectTimeoutMs: defaults.connectTimeoutMs,
        ...given.postgres!,
      }
  return {
    app: given.app,
    engine,
    tables: given.tables ?? [],
    offsetsTable: given.offsetsTable ?? defaults.offsetsTable,
    retryTimeoutMs: given.retryTimeoutMs ?? defaults.retryTimeoutMs,
    logger: given.logger ?? createLogger(),
  }
}
