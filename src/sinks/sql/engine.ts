/** A row as both engines return it: column name to value. */
export type Row = Record<string, unknown>

/** What `SqlTransaction.query` returns: the rows and how many rows were returned or changed. */
export interface QueryResult {
  readonly rows: Row[]
  /** Rows returned (SELECT, RETURNING) or changed (INSERT, UPDATE, DELETE). */
  readonly rowCount: number
}

/** Runs one statement with `$1`-style placeholders. */
export interface SqlConnection {
  query(sql: string, params?: readonly unknown[]): Promise<QueryResult>
}

/** What `transaction`'s body decides: keep what it did, or roll it back, and what to return. */
export interface TransactionResult<T> {
  readonly commit: boolean
  readonly value: T
}

export interface TransactionOptions {
  /**
   * When a statement of the transaction has waited this long for row locks, end the sessions of
   * this application that hold them: they belong to a process that lost those rows to this one
   * (it stalled, or vanished without its connection noticing) and would otherwise hold them
   * until it wakes up. PostgreSQL only; SQLite's lock is the whole file and has no sessions to end.
   */
  readonly takeOverAfterMs?: number
}

/**
 * The little the SQL sink needs from a database, implemented for PostgreSQL (`pg`) and
 * embedded SQLite (`node:sqlite`). Everything else — the offsets protocol, the helpers —
 * is written once against this.
 */
export interface SqlEngine extends SqlConnection {
  readonly kind: 'postgres' | 'sqlite'
  /** Where the data lives, for messages (no passwords): `PostgreSQL at host:5432/db`, `SQLite file /x.db`. */
  readonly target: string
  /** Connects and checks the connection; fails with a SluiceError naming the target. */
  open(): Promise<void>
  /**
   * Runs `body` in one transaction that takes the write lock up front where the engine has
   * one (SQLite's BEGIN IMMEDIATE). Commits or rolls back as `body` decides; rolls back
   * when it throws.
   */
  transaction<T>(
    body: (connection: SqlConnection) => Promise<TransactionResult<T>>,
    options?: TransactionOptions,
  ): Promise<T>
  /** True when the table (or view) exists; `name` may be schema-qualified. */
  tableExists(name: string): Promise<boolean>
  /**
   * True for a failure that says nothing about the batch and may pass: the connection was
   * lost or refused, the server is restarting, another writer holds the lock. A transaction
   * that failed so was rolled back (or, after `CommitOutcomeUnknown`, may have committed),
   * so running it again is safe.
   */
  isTransient(error: unknown): boolean
  /**
   * Whether the transaction `transactionId` of a `CommitOutcomeUnknown` committed: true,
   * false, or undefined when the database can no longer tell. Asked through `connection`,
   * inside the retried transaction.
   */
  committed(connection: SqlConnection, transactionId: string): Promise<boolean | undefined>
  close(): Promise<void>
}

/**
 * COMMIT was sent and the connection died before its answer: the transaction may have
 * committed or not. Thrown by `transaction` in place of the connection error; transient.
 */
export class CommitOutcomeUnknown extends Error {
  readonly transactionId: string

  constructor(transactionId: string, cause: unknown) {
    super(`the connection was lost while committing transaction ${transactionId}; it may have committed`, {
      cause,
    })
    this.name = 'CommitOutcomeUnknown'
    this.transactionId = transactionId
  }
}
