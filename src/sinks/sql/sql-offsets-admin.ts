import { existsSync } from 'node:fs'
import { ErrorCodes, isSluiceError, SluiceError } from '../../core/errors.ts'
import type { Logger } from '../../core/logger.ts'
import type { OffsetMove, OffsetsAdmin, StoredPosition } from '../offsets-admin.ts'
import type { SqlEngine } from './engine.ts'
import { OffsetsTable } from './offsets-table.ts'
import { PostgresEngine } from './postgres-engine.ts'
import { SqliteEngine } from './sqlite-engine.ts'

export interface SqlOffsetsAdminOptions {
  readonly app: string
  readonly sqlite?: { readonly path: string }
  readonly postgres?: { readonly connectionString: string }
  /** The sink's offsets table (default sluice_offsets). */
  readonly table: string
  readonly logger: Logger
}

/**
 * How long a reset waits for a batch holding the offsets' locks (SQLite's write lock,
 * PostgreSQL's row locks) before it refuses: long enough for a batch's transaction, which
 * holds them only while it writes, too short to wait out a job that hangs inside one.
 */
const LOCK_WAIT_MS = 2_000

/** PostgreSQL's lock_not_available: the rows stayed locked past lock_timeout. */
const LOCK_NOT_AVAILABLE = '55P03'

/**
 * The SQL sink's offsets table, for operators. A reset is one transaction that takes the
 * rows' locks first — the locks a batch's transaction holds from its first statement to its
 * commit — so it never interleaves with a batch: it refuses while one is being written, and a
 * job that writes its next batch after the reset finds the offsets moved and stops with
 * SLUICE_SINK_OFFSET_MISMATCH instead of overwriting them.
 */
export class SqlOffsetsAdmin implements OffsetsAdmin {
  readonly app: string
  readonly where: string
  readonly #engine: SqlEngine
  readonly #table: OffsetsTable

  private constructor(app: string, engine: SqlEngine, table: OffsetsTable) {
    this.app = app
    this.#engine = engine
    this.#table = table
    this.where = `table ${table.name} in ${engine.target}`
  }

  /** Connects and checks that the table exists; never creates a database file or a table. */
  static async open(options: SqlOffsetsAdminOptions): Promise<SqlOffsetsAdmin> {
    if (options.sqlite !== undefined && !existsSync(options.sqlite.path)) {
      throw new SluiceError(ErrorCodes.SINK, `SQLite file '${options.sqlite.path}' does not exist`, {
        details: { path: options.sqlite.path, reason: 'no-such-file' },
      })
    }
    const engine: SqlEngine =
      options.sqlite !== undefined
        ? new SqliteEngine(options.sqlite.path, LOCK_WAIT_MS, options.logger)
        : new PostgresEngine(
            {
              connectionString: options.postgres!.connectionString,
              maxConnections: 2,
              connectTimeoutMs: 10_000,
              // Not the job's `sluice:<app>`: a claiming job ends only its own application's
              // stalled sessions, never an operator's tool.
              applicationName: 'sluice-offsets-tool',
            },
            options.logger,
          )
    await engine.open()
    try {
      if (!(await engine.tableExists(options.table))) {
        throw new SluiceError(
          ErrorCodes.SINK,
          `${engine.target} has no offsets table ${options.table}: no SQL sink wrote there yet, or the job's ` +
            'offsetsTable is another (--table)',
          { details: { table: options.table, reason: 'no-such-table' } },
        )
      }
      return new SqlOffsetsAdmin(options.app, engine, new OffsetsTable(options.table))
    } catch (error) {
      await engine.close()
      throw error
    }
  }

  async read(): Promise<StoredPosition[]> {
    const withLost = await this.#engine.tableExists(this.#table.lostName)
    return this.#table.positions(this.#engine, this.app, { withLost })
  }

  async activity(): Promise<string[]> {
    return []
  }

  async reset(
    plan: (current: readonly StoredPosition[]) => Promise<readonly OffsetMove[]>,
    options: { readonly dryRun: boolean },
  ): Promise<readonly OffsetMove[]> {
    try {
      return await this.#engine.transaction(async (connection) => {
        const postgres = this.#engine.kind === 'postgres'
        if (postgres) await connection.query(`SET LOCAL lock_timeout = ${LOCK_WAIT_MS}`)
        const current = await this.#table.positions(connection, this.app, { lock: postgres })
        const moves = await plan(current)
        if (!options.dryRun) await this.#table.move(connection, this.app, moves)
        return { commit: !options.dryRun, value: moves }
      })
    } catch (error) {
      if (isBatchInProgress(error)) {
        throw new SluiceError(
          ErrorCodes.OFFSETS_IN_USE,
          `a batch of app '${this.app}' is being written to ${this.where} right now (it holds the offsets' ` +
            'locks): stop the job first; nothing was reset',
          { cause: error, details: { app: this.app } },
        )
      }
      throw error
    }
  }

  async close(): Promise<void> {
    await this.#engine.close()
  }
}

/** SQLite's write lock still held after the wait, or PostgreSQL's row locks held. */
function isBatchInProgress(error: unknown): boolean {
  if ((error as { code?: unknown } | null)?.code === LOCK_NOT_AVAILABLE) return true
  return isSluiceError(error, ErrorCodes.SINK) && error.retriable && /stayed locked/.test(error.message)
}
