import type { DatabaseSync, SQLInputValue } from 'node:sqlite'
import { setTimeout as sleep } from 'node:timers/promises'
import { ErrorCodes, messageOf, SluiceError } from '../../core/errors.ts'
import type { Logger } from '../../core/logger.ts'
import type { QueryResult, Row, SqlConnection, SqlEngine, TransactionResult } from './engine.ts'
import { quoteName, toSqliteSql } from './sql-text.ts'

const SQLITE_BUSY = 5
const SQLITE_LOCKED = 6

/**
 * Embedded SQLite through `node:sqlite`: one connection per sink, WAL journal (readers never
 * block the writer), `synchronous=FULL` (a committed batch survives a power cut), and
 * `BEGIN IMMEDIATE` so that writers serialize on the database's write lock from the first
 * statement on — two instances never both read "from" and both write.
 *
 * The busy timeout is ours, not SQLite's: node:sqlite is synchronous, so SQLite's own
 * busy handler would block the event loop while it waits — and if the lock holder is in
 * this same process (another sink instance, a test), it could never finish. Instead
 * `BEGIN IMMEDIATE` fails fast (`busy_timeout=0`) and is retried after an async backoff
 * until `busyTimeoutMs` has passed.
 */
export class SqliteEngine implements SqlEngine {
  readonly kind = 'sqlite'
  readonly target: string
  readonly #path: string
  readonly #busyTimeoutMs: number
  readonly #logger: Logger
  #db: DatabaseSync | undefined
  /** One connection, used by one operation at a time: statements of two batches must not interleave. */
  #queue: Promise<unknown> = Promise.resolve()

  constructor(path: string, busyTimeoutMs: number, logger: Logger) {
    this.#path = path
    this.#busyTimeoutMs = busyTimeoutMs
    this.#logger = logger
    this.target = `SQLite file ${path}`
  }

  async open(): Promise<void> {
    try {
      // Loaded on first use: Node 22 warns that node:sqlite is experimental when it loads, and
      // applications without an SQLite sink should neither load it nor see the warning.
      const { DatabaseSync } = await import('node:sqlite')
      const db = new DatabaseSync(this.#path, { timeout: 0 })
      this.#db = db
      db.exec('PRAGMA busy_timeout = 0')
      await this.#whenNotBusy('switching to WAL', () => {
        const mode = db.prepare('PRAGMA journal_mode = WAL').get() as { journal_mode?: string } | undefined
        if (mode?.journal_mode !== 'wal') throw new Error(`journal_mode stayed '${mode?.journal_mode}'`)
      })
      db.exec('PRAGMA synchronous = FULL')
    } catch (error) {
      this.#db?.close()
      this.#db = undefined
      throw new SluiceError(ErrorCodes.SINK, `cannot open ${this.target}: ${messageOf(error)}`, {
        cause: error,
        details: { path: this.#path },
      })
    }
  }

  query(sql: string, params: readonly unknown[] = []): Promise<QueryResult> {
    return this.#exclusive(async () => this.#run(sql, params))
  }

  transaction<T>(body: (connection: SqlConnection) => Promise<TransactionResult<T>>): Promise<T> {
    return this.#exclusive(async () => {
      const db = this.#open()
      await this.#whenNotBusy('taking the write lock', () => db.exec('BEGIN IMMEDIATE'))
      try {
        const result = await body({ query: async (sql, params = []) => this.#run(sql, params) })
        db.exec(result.commit ? 'COMMIT' : 'ROLLBACK')
        return result.value
      } catch (error) {
        try {
          if (db.isTransaction) db.exec('ROLLBACK')
        } catch (rollbackError) {
          this.#logger.warn('rolling back an SQLite transaction failed', { error: rollbackError })
        }
        throw error
      }
    })
  }

  async tableExists(name: string): Promise<boolean> {
    const parts = name.split('.')
    const schema = parts.length === 2 ? `${quoteName(parts[0]!)}.` : ''
    const table = parts.at(-1)!
    const { rows } = await this.query(
      `SELECT 1 AS present FROM ${schema}sqlite_master WHERE type IN ('table', 'view') AND name = $1 COLLATE NOCASE`,
      [table],
    )
    return rows.length > 0
  }

  /** Another connection holds the lock (SQLITE_BUSY, SQLITE_LOCKED), also after busyTimeoutMs. */
  isTransient(error: unknown): boolean {
    return isBusy(error) || (error instanceof SluiceError && isBusy(error.cause))
  }

  /** Never asked: a local COMMIT either returns or fails, its outcome is never unknown. */
  async committed(): Promise<boolean | undefined> {
    return undefined
  }

  async close(): Promise<void> {
    await this.#exclusive(async () => {
      this.#db?.close()
      this.#db = undefined
    })
  }

  #open(): DatabaseSync {
    if (this.#db === undefined) throw new SluiceError(ErrorCodes.CLOSED, `${this.target} is not open`)
    return this.#db
  }

  #run(sql: string, params: readonly unknown[]): QueryResult {
    const statement = this.#open().prepare(toSqliteSql(sql))
    const values = params.map(toSqliteValue)
    if (statement.columns().length > 0) {
      // node:sqlite hands back null-prototype objects; callers get plain ones.
      const rows = statement.all(...values).map((row) => ({ ...(row as Row) }))
      return { rows, rowCount: rows.length }
    }
    const { changes } = statement.run(...values)
    return { rows: [], rowCount: Number(changes) }
  }

  async #whenNotBusy(what: string, attempt: () => void): Promise<void> {
    const deadline = Date.now() + this.#busyTimeoutMs
    let backoff = 5
    let logged = false
    for (;;) {
      try {
        attempt()
        return
      } catch (error) {
        if (!isBusy(error)) throw error
        if (Date.now() + backoff > deadline) {
          throw new SluiceError(
            ErrorCodes.SINK,
            `${this.target} stayed locked by another connection for ${this.#busyTimeoutMs} ms while ${what} ` +
              `(${messageOf(error)})`,
            { cause: error, retriable: true, details: { path: this.#path } },
          )
        }
        if (!logged) {
          logged = true
          this.#logger.debug('waiting for the SQLite write lock', { path: this.#path, while: what })
        }
        await sleep(backoff)
        backoff = Math.min(backoff * 2, 100)
      }
    }
  }

  #exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(operation, operation)
    this.#queue = run.catch(() => {})
    return run
  }
}

function isBusy(error: unknown): boolean {
  const code = (error as { errcode?: unknown } | null)?.errcode
  return typeof code === 'number' && ((code & 0xff) === SQLITE_BUSY || (code & 0xff) === SQLITE_LOCKED)
}

/** What node:sqlite can bind; other values are converted the way pg converts them for PostgreSQL. */
function toSqliteValue(value: unknown): SQLInputValue {
  if (value === undefined || value === null) return null
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'bigint':
      return value
    case 'boolean':
      return value ? 1 : 0
  }
  if (value instanceof Uint8Array) return value
  if (value instanceof Date) return value.toISOString()
  if (typeof value === 'object' && !Array.isArray(value)) return JSON.stringify(value)
  throw new SluiceError(
    ErrorCodes.INVALID_ARGUMENT,
    `cannot pass ${Array.isArray(value) ? 'an array' : typeof value} as an SQLite parameter`,
  )
}
