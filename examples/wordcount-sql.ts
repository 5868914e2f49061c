// Word count over a Kafka topic, exactly once into PostgreSQL or SQLite through the SQL sink.
//
// Each batch adds its counts to `word_counts (word PRIMARY KEY, count)` in ONE transaction
// that also moves the app's offsets in `sluice_offsets` from the batch's from-offsets to its
// until-offsets. A re-run of a batch after a crash finds the offsets already moved and writes
// nothing; a second instance of the app writing the same records is refused. No checkpoint
// is needed: the stream starts where the sink's offsets say (give one anyway to keep
// windows or state across restarts).
//
//   PG_URL=postgresql://user@host/db KAFKA_BOOTSTRAP=127.0.0.1:9092 TOPIC=words npm run example -- examples/wordcount-sql.ts
//   SQLITE=./counts.db KAFKA_BOOTSTRAP=127.0.0.1:9092 TOPIC=words npm run example -- examples/wordcount-sql.ts
//
// Run it from the repository: the "example" script runs the file on Node 24 and resolves
// 'sluice' to the sources, as the installed package would be resolved. `npx sluice kafka
// start` starts a local broker and prints its bootstrap address. TOPIC must name an
// existing topic (the job fails at start, naming it, otherwise). Ctrl-C stops the job
// gracefully.
import { DatabaseSync } from 'node:sqlite'
import pg from 'pg'
import {
  createLogger,
  createSqlSink,
  type GroupOptions,
  type Logger,
  type SqlSink,
  type SqlSinkOptions,
  type StaticSplitOptions,
  type StoredOffsets,
  type StreamingContext,
  type StreamingListener,
} from 'sluice'
import { type BatchHooks, startWithSink, writeWithHooks } from './batch-hooks.ts'
import { startingFromSink, wordCountJob } from './word-count-job.ts'

export interface SqlWordCountOptions {
  readonly brokers: readonly string[]
  readonly topic: string
  /** Where the counts go: `{ postgres: { connectionString } }` or `{ sqlite: { path } }`. */
  readonly database: Pick<SqlSinkOptions, 'postgres' | 'sqlite'>
  /** Names the app's offsets in the database (and its checkpoint). Default 'wordcount'. */
  readonly app?: string
  /** The counts table (default 'word_counts'); it must exist, see `createCountsTable`. */
  readonly table?: string
  /** Where the sink keeps offsets (default 'sluice_offsets'). */
  readonly offsetsTable?: string
  /**
   * How long the job rides out an outage before a batch fails (default 30 s): the sink's
   * database, and the stream's Kafka calls (a broker restart, a leader move).
   */
  readonly retryTimeoutMs?: number
  /** Optional: without a checkpoint the stream resumes from the sink's stored offsets. */
  readonly checkpoint?: string
  readonly batchInterval?: number
  readonly maxRatePerPartition?: number
  /** The stream's failOnDataLoss (default true). */
  readonly failOnDataLoss?: boolean
  readonly logger?: Logger
  /**
   * Share the topic's partitions with the job's other processes: each process is a member of
   * this consumer group (docs/scale-out.md); positions come from the sink.
   */
  readonly group?: GroupOptions
  /** Or: a static split of the partitions, instance i of N under a deployment epoch. */
  readonly split?: StaticSplitOptions
  readonly hooks?: BatchHooks
  /** Progress listeners (metrics, logs), added before the stream starts. */
  readonly listeners?: readonly StreamingListener[]
}

/** The DDL of the counts table; applications keep it with their other migrations. */
export function countsTableDdl(engine: 'postgres' | 'sqlite', table = 'word_counts'): string {
  const integer = engine === 'postgres' ? 'BIGINT' : 'INTEGER'
  return `CREATE TABLE IF NOT EXISTS "${table}" (word TEXT PRIMARY KEY, count ${integer} NOT NULL)`
}

/** Creates the counts table if it is missing (the sink checks for it, it does not create it). */
export async function createCountsTable(
  database: SqlWordCountOptions['database'],
  table = 'word_counts',
): Promise<void> {
  if (database.postgres) {
    const client = new pg.Client({ connectionString: database.postgres.connectionString })
    // A connection the server drops emits 'error'; the awaited query reports it anyway.
    client.on('error', () => {})
    await client.connect()
    try {
      await client.query(countsTableDdl('postgres', table))
    } finally {
      await client.end()
    }
  } else if (database.sqlite) {
    const db = new DatabaseSync(database.sqlite.path)
    try {
      db.exec(countsTableDdl('sqlite', table))
    } finally {
      db.close()
    }
  }
}

/**
 * Starts the job: the sink first (a bad connection string or a missing table fails here,
 * before anything is read), then a stream that begins at the sink's offsets. `done`
 * settles when the stream stops — rejecting with the error that stopped it — and the sink
 * is closed by then.
 */
export async function startSqlWordCount(
  options: SqlWordCountOptions,
): Promise<{ ssc: StreamingContext; sink: SqlSink; startingOffsets: StoredOffsets; done: Promise<void> }> {
  const app = options.app ?? 'wordcount'
  const table = options.table ?? 'word_counts'
  const logger = options.logger ?? createLogger()
  const hooks = options.hooks ?? {}
  const sink = createSqlSink({
    app,
    ...options.database,
    tables: [table],
    ...(options.offsetsTable === undefined ? {} : { offsetsTable: options.offsetsTable }),
    ...(options.retryTimeoutMs === undefined ? {} : { retryTimeoutMs: options.retryTimeoutMs }),
    logger,
  })
  await sink.start()
  try {
    const { startingOffsets, job } = await startingFromSink(options, sink)
    const { ssc, counts } = wordCountJob({ ...options, app, logger, ...job })
    counts.foreachBatch(async (rdd, batch) => {
      // Compute before the transaction: it holds the offsets lock only while it writes.
      const rows = (await rdd.collect()).map(([word, count]) => ({ word, count }))
      await writeWithHooks(sink, batch, hooks, (tx) => tx.upsert(table, ['word'], rows, { add: ['count'] }))
    })
    const { done } = await startWithSink(ssc, sink, options.listeners)
    return { ssc, sink, startingOffsets, done }
  } catch (error) {
    await sink.close()
    throw error
  }
}

if (import.meta.main) {
  const database: SqlWordCountOptions['database'] = process.env.PG_URL
    ? { postgres: { connectionString: process.env.PG_URL } }
    : { sqlite: { path: process.env.SQLITE ?? 'wordcount.db' } }
  await createCountsTable(database)
  const { done } = await startSqlWordCount({
    brokers: (process.env.KAFKA_BOOTSTRAP ?? '127.0.0.1:9092').split(','),
    topic: process.env.TOPIC ?? 'words',
    database,
    ...(process.env.CHECKPOINT ? { checkpoint: process.env.CHECKPOINT } : {}),
  })
  await done // Ctrl-C stops after the running batch
}
