import type pg from 'pg'
import { ErrorCodes, messageOf, SluiceError } from '../../core/errors.ts'
import type { Logger } from '../../core/logger.ts'
import type { QueryResult, Row, SqlConnection, SqlEngine, TransactionResult } from './engine.ts'
import { quoteName } from './sql-text.ts'

export interface PostgresEngineOptions {
  readonly connectionString: string
  readonly maxConnections: number
  readonly connectTimeoutMs: number
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
      // Idle pooled connections must not keep the process alive after the stream stops.
      allowExitOnIdle: true,
    })
    // An idle connection that the server drops emits 'error' on the pool; unhandled, it would crash.
    pool.on('error', (error) => this.#logger.warn('an idle PostgreSQL connection failed', { error }))
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

  async transaction<T>(body: (connection: SqlConnection) => Promise<TransactionResult<T>>): Promise<T> {
    const client = await this.#requirePool().connect()
    let broken: Error | undefined
    try {
      await client.query('BEGIN')
      const result = await body({
        query: async (sql, params = []) => toResult(await client.query(sql, [...params])),
      })
      await client.query(result.commit ? 'COMMIT' : 'ROLLBACK')
      return result.value
    } catch (error) {
      try {
        await client.query('ROLLBACK')
      } catch (rollbackError) {
        // The connection is unusable (server gone, protocol error): do not return it to the pool.
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError))
      }
      throw error
    } finally {
      client.release(broken)
    }
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
