import { ErrorCodes, messageOf, SluiceError } from '../../core/errors.ts'
import type { Logger } from '../../core/logger.ts'
import { describeOwner, type PartitionOwner } from '../../kafka/partition-owner.ts'
import type { TopicPartition } from '../../kafka/types.ts'
import { byPartition, checkBatch, type SinkBatch } from '../batch.ts'
import { Abandoned, throwIfAbandoned, untilAbandoned } from '../batch-signal.ts'
import type { BatchOutcome, OffsetStoringSink, StoredOffsets } from '../sink.ts'
import { publishingOutcome } from '../sink-diagnostics.ts'
import {
  alreadyAppliedByAnotherError,
  batchAbandonedError,
  batchWriteError,
  closedError,
  notStartedError,
  offsetMismatchError,
  partitionsRevokedError,
  retriesExhaustedError,
} from '../sink-errors.ts'
import { CommitOutcomeUnknown, type QueryResult, type SqlConnection, type SqlEngine } from './engine.ts'
import { type LostRange, OffsetsTable } from './offsets-table.ts'
import { PostgresEngine } from './postgres-engine.ts'
import { appendStatements, type RowValues, type UpsertOptions, upsertStatements } from './row-writes.ts'
import {
  type ResolvedSqlSinkOptions,
  resolveSqlSinkOptions,
  type SqlSinkOptions,
} from './sql-sink-options.ts'
import { SqliteEngine } from './sqlite-engine.ts'
import { RetriesExhausted, retryTransient } from './transient-retry.ts'

/**
 * What the write function of a batch writes through: everything it does is part of the
 * batch's transaction, together with the batch's offsets.
 */
export interface SqlTransaction {
  /** The batch being written (id, time, ranges), e.g. to stamp rows with the batch id. */
  readonly batch: SinkBatch
  /** One statement with `$1, $2, ...` placeholders, on PostgreSQL and SQLite alike. */
  query(sql: string, params?: readonly unknown[]): Promise<QueryResult>
  /** Inserts rows; existing keys get `add` columns summed and the other columns replaced. */
  upsert(
    table: string,
    keyColumns: readonly string[],
    rows: readonly RowValues[],
    options?: UpsertOptions,
  ): Promise<void>
  /** Inserts rows. */
  append(table: string, rows: readonly RowValues[]): Promise<void>
}

type State = 'new' | 'started' | 'closed'

/**
 * The exactly-once SQL sink. Each batch is ONE transaction: first the batch's offsets move
 * from its from-offsets to its until-offsets in the offsets table (only if they are where
 * the batch starts), then the write function writes the output. Both commit together or
 * not at all, so re-running a batch after any crash can neither lose nor repeat output.
 */
export class SqlSink implements OffsetStoringSink<SqlTransaction> {
  readonly app: string
  readonly engine: 'postgres' | 'sqlite'
  readonly #options: ResolvedSqlSinkOptions
  readonly #db: SqlEngine
  readonly #offsets: OffsetsTable
  readonly #logger: Logger
  #state: State = 'new'
  #starting: Promise<void> | undefined

  constructor(options: SqlSinkOptions) {
    this.#options = resolveSqlSinkOptions(options)
    this.app = this.#options.app
    this.#logger = this.#options.logger.child({ component: 'sql-sink', app: this.app })
    const engine = this.#options.engine
    this.#db =
      engine.kind === 'sqlite'
        ? new SqliteEngine(engine.path, engine.busyTimeoutMs, this.#logger)
        : new PostgresEngine({ ...engine, applicationName: applicationNameOf(this.app) }, this.#logger)
    this.engine = engine.kind
    this.#offsets = new OffsetsTable(this.#options.offsetsTable)
  }

  /** Where the data lives, e.g. `PostgreSQL at 127.0.0.1:5432/app` (never a password). */
  get target(): string {
    return this.#db.target
  }

  /**
   * Connects, creates the offsets table if missing and checks the required tables — so a
   * bad connection string, an unreachable server or a missing table fails here, before any
   * batch runs.
   */
  async start(): Promise<void> {
    if (this.#state === 'closed') throw closedError('SQL', this.app)
    if (this.#state === 'started') return
    // A second start() while the first is under way waits for the same outcome.
    this.#starting ??= this.#start().finally(() => {
      this.#starting = undefined
    })
    return this.#starting
  }

  async #start(): Promise<void> {
    try {
      await this.#db.open()
      await this.#offsets.ensure(this.#db)
      for (const table of this.#options.tables) {
        if (!(await this.#db.tableExists(table))) {
          throw new SluiceError(
            ErrorCodes.SINK,
            `table '${table}' that the SQL sink of app '${this.app}' requires does not exist in ${this.#db.target}; ` +
              'create it before starting the stream',
            { details: { app: this.app, table } },
          )
        }
      }
      this.#state = 'started'
      this.#logger.debug('SQL sink started', { target: this.#db.target })
    } catch (error) {
      await this.#db.close().catch(() => {})
      throw error
    }
  }

  /**
   * Writes a batch exactly once. Resolves `'applied'` when written now, `'already-applied'`
   * when a replay finds it written before. Throws FENCED when a first run finds it written
   * (another instance did it), SINK_OFFSET_MISMATCH when the stored offsets are neither at
   * the batch's start nor its end, and SINK (cause kept) when the write function fails —
   * in every error case nothing of the batch is applied.
   *
   * A transient database failure (connection lost or refused, server restarting, SQLite
   * lock) rolls the transaction back and runs it again — the write function included — until
   * `retryTimeoutMs` has passed since the first failure. When the connection died with COMMIT
   * in flight, the next attempt finds the offsets moved and, once the database confirms that
   * the lost COMMIT was its own, reports `'already-applied'`: nothing is applied twice.
   */
  async writeBatch(batch: SinkBatch, write: (tx: SqlTransaction) => Promise<void>): Promise<BatchOutcome> {
    return publishingOutcome(this.app, 'sql', batch, () => this.#writeBatch(batch, write))
  }

  async #writeBatch(batch: SinkBatch, write: (tx: SqlTransaction) => Promise<void>): Promise<BatchOutcome> {
    this.#checkStarted()
    const ranges = checkBatch(batch)
    const store = `table ${this.#offsets.name}`
    // Commits of earlier attempts whose answer was lost: they may have applied the batch.
    const uncertainCommits: string[] = []
    const attempt = (previousError: unknown) => {
      if (previousError instanceof CommitOutcomeUnknown) uncertainCommits.push(previousError.transactionId)
      return this.#db.transaction(async (connection) => {
        throwIfAbandoned(this.app, batch)
        const { check, revoked } = await this.#offsets.claim(connection, this.app, batch, ranges)
        if (revoked.length > 0) throw partitionsRevokedError(this.app, batch, batch.owner!, revoked, store)
        if (check.kind === 'mismatch' || check.kind === 'partly-applied') {
          throw offsetMismatchError(this.app, batch, check, store)
        }
        if (check.kind === 'already-applied') {
          if (!batch.replay && !(await this.#appliedByLostCommit(connection, uncertainCommits))) {
            throw alreadyAppliedByAnotherError(this.app, batch, store)
          }
          return { commit: false, value: 'already-applied' as const }
        }
        await this.#offsets.recordLost(connection, this.app, batch)
        const tx = transactionHandle(connection, batch)
        try {
          await untilAbandoned(batch, write(tx.handle))
        } catch (error) {
          if (error instanceof Abandoned) throw batchAbandonedError(this.app, batch, error.reason)
          throw batchWriteError(this.app, batch, error)
        } finally {
          tx.end()
        }
        throwIfAbandoned(this.app, batch)
        return { commit: true, value: 'applied' as const }
      })
    }
    const outcome = await retryTransient(attempt, {
      timeoutMs: this.#options.retryTimeoutMs,
      isTransient: (error) => this.#db.isTransient(error),
      logger: this.#logger,
      context: { batchId: batch.id, target: this.#db.target },
    }).catch((error: unknown) => {
      if (error instanceof RetriesExhausted) {
        throw retriesExhaustedError(this.app, batch, this.#db.target, this.#options.retryTimeoutMs, error)
      }
      if (error instanceof SluiceError && error.details.batchId === batch.id) throw error
      throw batchWriteError(this.app, batch, error, this.#db.target)
    })
    this.#logger.debug('batch written', { batchId: batch.id, outcome })
    return outcome
  }

  /**
   * Makes `owner` the owner of the partitions of `claims` for a stream whose partitions several
   * processes share (see PartitionOffsetStore): raises each partition's stored owner generation
   * and member — waiting for the row lock of a batch the previous owner still has in flight —
   * and returns where each partition resumes. A partition without a row gets one at its start
   * offset (batch_id -1). Partitions a higher generation holds are reported, not claimed,
   * unless `force`. Transient failures are retried as for a batch.
   */
  async claimPartitions(
    owner: PartitionOwner,
    claims: readonly PartitionClaimRow[],
    options: { readonly force?: boolean } = {},
  ): Promise<{ positions: ReadonlyMap<string, bigint>; overtaken: readonly TopicPartition[] }> {
    this.#checkStarted()
    const sorted = [...claims].sort(byPartition)
    return this.#readRetrying(`claiming ${sorted.length} partitions for ${describeOwner(owner)}`, () =>
      this.#db.transaction(
        async (connection) => ({
          commit: true,
          value: await this.#offsets.claimOwnership(
            connection,
            this.app,
            owner,
            sorted,
            options.force ?? false,
          ),
        }),
        // The previous owner's batch in flight commits or rolls back within moments of the
        // rebalance; a lock still held after that belongs to a process that stalled mid-batch.
        { takeOverAfterMs: takeOverAfterMs },
      ),
    )
  }

  /** Whether one of the commits whose answer was lost did commit: then the batch is this run's own. */
  async #appliedByLostCommit(connection: SqlConnection, transactionIds: readonly string[]): Promise<boolean> {
    for (const id of transactionIds) {
      const committed = await this.#db.committed(connection, id)
      if (committed === true) return true
      if (committed === undefined) {
        // Too old for the server to know (it cannot be here: ids are seconds old). The offsets
        // moved after our COMMIT was sent; the likelier author is that COMMIT.
        this.#logger.warn(
          'cannot tell whether a commit whose answer was lost took effect; taking it as ours',
          {
            transactionId: id,
          },
        )
        return true
      }
    }
    return false
  }

  /**
   * The until-offsets stored for `app` (default: this sink's app) as
   * `{ [topic]: { [partition]: offset } }` — pass it as the stream's `startingOffsets`.
   * Transient failures are retried as for a batch.
   */
  async storedOffsets(app: string = this.app): Promise<StoredOffsets> {
    this.#checkStarted()
    return this.#readRetrying('reading the stored offsets', () => this.#offsets.read(this.#db, app))
  }

  /**
   * Every range of `app` (default: this sink's app) that a batch skipped because retention
   * had deleted it before the stream read it (failOnDataLoss: false), with the batch that
   * skipped it.
   */
  async lostRanges(app: string = this.app): Promise<LostRange[]> {
    this.#checkStarted()
    return this.#readRetrying('reading the lost ranges', () => this.#offsets.readLost(this.#db, app))
  }

  async #readRetrying<T>(what: string, read: () => Promise<T>): Promise<T> {
    return retryTransient(read, {
      timeoutMs: this.#options.retryTimeoutMs,
      isTransient: (error) => this.#db.isTransient(error),
      logger: this.#logger,
      context: { while: what, target: this.#db.target },
    }).catch((error: unknown) => {
      const cause = error instanceof RetriesExhausted ? error.lastError : error
      throw new SluiceError(
        ErrorCodes.SINK,
        `the SQL sink of app '${this.app}' failed ${what} from ${this.#db.target}: ${messageOf(cause)}`,
        {
          cause,
          retriable: error instanceof RetriesExhausted,
          details: { app: this.app, target: this.#db.target },
        },
      )
    })
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    await this.#db.close()
  }

  #checkStarted(): void {
    if (this.#state === 'closed') throw closedError('SQL', this.app)
    if (this.#state !== 'started') throw notStartedError('SQL', this.app)
  }
}

/** How long a claim waits for the previous owner's row locks before it ends that owner's sessions. */
const takeOverAfterMs = 5000

/** `application_name` of the sink's PostgreSQL sessions: `sluice:<app>`, within PostgreSQL's 63 bytes. */
function applicationNameOf(app: string): string {
  let name = `sluice:${app}`
  while (Buffer.byteLength(name) > 63) name = name.slice(0, -1)
  return name
}

/** A partition to claim and where it starts when nothing is stored for it. */
export interface PartitionClaimRow extends TopicPartition {
  readonly startOffset: bigint
}

/** Creates an SQL sink; options are checked now, the database is contacted by `start()`. */
export function createSqlSink(options: SqlSinkOptions): SqlSink {
  return new SqlSink(options)
}

/** The handle the write function gets; it stops working once the batch's transaction ends. */
function transactionHandle(connection: SqlConnection, batch: SinkBatch) {
  let open = true
  const query = (sql: string, params?: readonly unknown[]) => {
    if (!open) {
      throw new SluiceError(
        ErrorCodes.CLOSED,
        `the transaction of batch ${batch.id} is over; write only inside the write function and await every query`,
      )
    }
    return connection.query(sql, params)
  }
  const run = async (statements: { sql: string; params: unknown[] }[]) => {
    for (const statement of statements) await query(statement.sql, statement.params)
  }
  const handle: SqlTransaction = {
    batch,
    query: async (sql, params) => query(sql, params),
    upsert: async (table, keyColumns, rows, options) =>
      run(upsertStatements(table, keyColumns, rows, options)),
    append: async (table, rows) => run(appendStatements(table, rows)),
  }
  return {
    handle,
    end: () => {
      open = false
    },
  }
}
