import type pg from 'pg'
import { ErrorCodes, messageOf, SluiceError } from '../../core/errors.ts'
import type { Logger } from '../../core/logger.ts'
import {
  CommitOutcomeUnknown,
  type QueryResult,
  type Row,
  type SqlConnection,
  type SqlEngine,
  type TransactionOptions,
  type TransactionResult,
} from './engine.ts'
import { quoteName } from './sql-text.ts'

export interface PostgresEngineOptions {
  readonly connectionString: string
  readonly maxConnections: number
  readonly connectTimeoutMs: number
  /** Names the sink's sessions (`pg_stat_activity.application_name`), so a takeover ends only its own app's. */
  readonly applicationName: string
}

/**
 * PostgreSQL through a `pg.Pool`. Each batch gets its own pooled connection for its
 * transaction (READ COMMITTED): the offsets row lock taken by the batch's first UPDATE is
 * what makes a concurrent instance wait, and then see the moved offsets.
 */
export class PostgresEngine implements SqlEngine {
  readonly kind = 'postgres'
  readonly target: string
  readonly #options: PostgresEngineOptions
  readonly #logger: Logger
  #pool: pg.Pool | undefined

  constructor(options: PostgresEngineOptions, logger: Logger) {
    this.#options = options
    this.#logger = logger
    this.target = describeTarget(options.connectionString)
  }

  async open(): Promise<void> {
    // Loaded on first use: applications without a PostgreSQL sink never load pg.
    const { default: driver } = await import('pg')
    const pool = new driver.Pool({
      connectionString: this.#options.connectionString,
      max: this.#options.maxConnections,
      connectionTimeoutMillis: this.#options.connectTimeoutMs,
      application_name: this.#options.applicationName,
      // Idle pooled connections must not keep the process alive after the stream stops.
      allowExitOnIdle: true,
    })
    // pg emits 'error' on a connection the server drops (restart, pg_terminate_backend): on the
    // pool for an idle one, on the client for one checked out (the pool removes its own listener
    // then). Unhandled, either would crash the process; the query in flight, if any, fails too,
    // and that failure is what the sink acts on.
    pool.on('error', (error) => this.#logger.warn('an idle PostgreSQL connection failed', { error }))
    pool.on('connect', (client) => {
      client.on('error', (error) =>
        this.#logger.warn('a PostgreSQL connection failed', { target: this.target, error }),
      )
    })
    try {
      const client = await pool.connect()
      client.release()
      this.#pool = pool
    } catch (error) {
      await pool.end().catch(() => {})
      throw new SluiceError(ErrorCodes.SINK, `cannot connect to ${this.target}: ${messageOf(error)}`, {
        cause: error,
        details: { target: this.target },
      })
    }
  }

  async query(sql: string, params: readonly unknown[] = []): Promise<QueryResult> {
    return toResult(await this.#requirePool().query(sql, [...params]))
  }

  /**
   * One transaction on its own pooled connection. Its id is read right after BEGIN (same
   * round trip), so that when the connection dies with COMMIT in flight the caller can ask
   * the server later whether it committed (`committed`, through txid_status).
   */
  async transaction<T>(
    body: (connection: SqlConnection) => Promise<TransactionResult<T>>,
    options: TransactionOptions = {},
  ): Promise<T> {
    const client = await this.#requirePool().connect()
    let broken: Error | undefined
    let transactionId: string | undefined
    let committing = false
    let watchdog: NodeJS.Timeout | undefined
    try {
      const begun = (await client.query(
        'BEGIN; SELECT txid_current()::text AS id, pg_backend_pid() AS pid',
      )) as unknown as pg.QueryResult[]
      transactionId = String(begun[1]!.rows[0].id)
      if (options.takeOverAfterMs !== undefined) {
        const pid = Number(begun[1]!.rows[0].pid)
        watchdog = setInterval(() => void this.#endBlockers(pid), options.takeOverAfterMs)
      }
      const result = await body({
        query: async (sql, params = []) => toResult(await client.query(sql, [...params])),
      })
      committing = result.commit
      await client.query(result.commit ? 'COMMIT' : 'ROLLBACK')
      return result.value
    } catch (error) {
      try {
        await client.query('ROLLBACK')
      } catch (rollbackError) {
        // The connection is unusable (server gone, protocol error): do not return it to the pool.
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError))
      }
      if (committing && transactionId !== undefined && isTransientPostgresError(error)) {
        throw new CommitOutcomeUnknown(transactionId, error)
      }
      throw error
    } finally {
      clearInterval(watchdog)
      client.release(broken)
    }
  }

  /** Ends the sessions of this application that hold the locks session `pid` waits for. */
  async #endBlockers(pid: number): Promise<void> {
    try {
      const { rows } = await this.query(
        'SELECT pid, pg_terminate_backend(pid) AS ended FROM pg_stat_activity ' +
          'WHERE pid = ANY(pg_blocking_pids($1)) AND application_name = $2',
        [pid, this.#options.applicationName],
      )
      if (rows.length > 0) {
        this.#logger.warn(
          'ended the database sessions of a process that still held rows this one took over (it stalled or vanished)',
          { target: this.target, sessions: rows.map((row) => Number(row.pid)) },
        )
      }
    } catch (error) {
      this.#logger.warn('could not end the sessions that hold rows this process took over', { error })
    }
  }

  async committed(connection: SqlConnection, transactionId: string): Promise<boolean | undefined> {
    const { rows } = await connection.query('SELECT txid_status($1::bigint) AS status', [transactionId])
    const status = rows[0]?.status
    // 'in progress' cannot be seen here: the retried transaction waited for its row locks.
    return status === 'committed' ? true : status === 'aborted' ? false : undefined
  }

  isTransient(error: unknown): boolean {
    return error instanceof CommitOutcomeUnknown || isTransientPostgresError(error)
  }

  async tableExists(name: string): Promise<boolean> {
    const { rows } = await this.query('SELECT to_regclass($1) IS NOT NULL AS present', [quoteName(name)])
    return rows[0]?.present === true
  }

  async close(): Promise<void> {
    const pool = this.#pool
    this.#pool = undefined
    await pool?.end()
  }

  #requirePool(): pg.Pool {
    if (this.#pool === undefined)
      throw new SluiceError(ErrorCodes.CLOSED, `the connection to ${this.target} is not open`)
    return this.#pool
  }
}

/** Network errors of a connection that may come back: refused, reset, unreachable, timed out. */
const transientNetworkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
])

/**
 * SQLSTATEs of a server going away or too busy for now: class 08 (connection exception),
 * admin/crash shutdown and "cannot connect now" (starting up, shutting down, in recovery),
 * too many connections, and the conflicts PostgreSQL itself tells clients to retry.
 */
function isTransientSqlState(code: string): boolean {
  return (
    code.startsWith('08') ||
    code === '57P01' ||
    code === '57P02' ||
    code === '57P03' ||
    code === '53300' ||
    code === '40001' ||
    code === '40P01'
  )
}

/** pg's own messages for a connection that ended or could not be made in time. */
const transientClientMessages = [
  'Connection terminated',
  'connection error and is not queryable',
  'timeout exceeded when trying to connect',
]

export function isTransientPostgresError(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string' && (transientNetworkCodes.has(code) || isTransientSqlState(code))) return true
  if (error instanceof AggregateError) return error.errors.some(isTransientPostgresError)
  return transientClientMessages.some((text) => error.message.includes(text))
}

function toResult(result: pg.QueryResult): QueryResult {
  return { rows: result.rows as Row[], rowCount: result.rowCount ?? result.rows.length }
}

/** `PostgreSQL at host:port/database` without user or password, for messages and logs. */
export function describeTarget(connectionString: string): string {
  try {
    const url = new URL(connectionString)
    const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || '(default database)'
    return `PostgreSQL at ${url.hostname || 'localhost'}:${url.port || '5432'}/${database}`
  } catch {
    return 'PostgreSQL (keyword/value connection string)'
  }
}
