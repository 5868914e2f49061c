// Word count over a Kafka topic, exactly once into an embedded SQLite file.
//
// Each batch's counts are written in one SQLite transaction to `word_counts_by_batch`,
// keyed by (batch_id, word) with INSERT OR REPLACE. A batch that crashed after its write
// but before its checkpoint commit is re-run with the same offset ranges (the checkpoint
// recorded them before it ran), produces the same counts, and replaces its own rows: the
// totals (SUM per word) therefore count every record exactly once.
//
//   KAFKA_BOOTSTRAP=127.0.0.1:9092 TOPIC=words npm run example -- examples/wordcount.ts
//
// Run it from the repository: the "example" script runs the file on Node 24 and resolves
// 'sluice' to the sources, as the installed package would be resolved. `npx sluice kafka
// start` starts a local broker and prints its bootstrap address. TOPIC must name an
// existing topic (the job fails at start, naming it, otherwise). Ctrl-C stops the job
// gracefully.
import { DatabaseSync } from 'node:sqlite'
import { type Batch, createLogger, type Logger, type StreamingContext, type UiOptions } from 'sluice'
import { wordCountJob } from './word-count-job.ts'

export interface WordCountOptions {
  readonly brokers: readonly string[]
  readonly topic: string
  readonly checkpoint: string
  /** SQLite file the counts go to. */
  readonly database: string
  readonly batchInterval?: number
  readonly maxRatePerPartition?: number
  /** The web UI and metrics (docs/ui.md). */
  readonly ui?: UiOptions
  readonly logger?: Logger
  /** Test hooks around the batch's SQLite COMMIT (the crash tests kill the job there). */
  readonly hooks?: WriteHooks
}

export interface WriteHooks {
  readonly beforeCommit?: (batch: Batch) => Promise<void> | void
  readonly afterCommit?: (batch: Batch) => Promise<void> | void
}

export function openCountsDatabase(path: string): DatabaseSync {
  const db = new DatabaseSync(path)
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;')
  db.exec(`CREATE TABLE IF NOT EXISTS word_counts_by_batch (
    batch_id INTEGER NOT NULL,
    word TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (batch_id, word)
  )`)
  return db
}

/** Totals per word: what the job has counted so far. */
export function wordTotals(db: DatabaseSync): Map<string, number> {
  const rows = db.prepare('SELECT word, SUM(count) AS total FROM word_counts_by_batch GROUP BY word').all()
  return new Map(rows.map((row) => [String(row.word), Number(row.total)]))
}

/** One transaction per batch: replaying a batch replaces exactly its own rows. */
async function writeCounts(
  db: DatabaseSync,
  batch: Batch,
  counts: readonly [string, number][],
  hooks: WriteHooks = {},
): Promise<void> {
  const insert = db.prepare(
    'INSERT OR REPLACE INTO word_counts_by_batch (batch_id, word, count) VALUES (?, ?, ?)',
  )
  db.exec('BEGIN IMMEDIATE')
  try {
    db.prepare('DELETE FROM word_counts_by_batch WHERE batch_id = ?').run(batch.id)
    for (const [word, count] of counts) insert.run(batch.id, word, count)
    await hooks.beforeCommit?.(batch)
    db.exec('COMMIT')
  } catch (error) {
    db.exec('ROLLBACK')
    throw error
  }
  await hooks.afterCommit?.(batch)
}

/** Defines the job on a new StreamingContext; call `start()` on the result. */
export function defineWordCount(options: WordCountOptions): { ssc: StreamingContext; db: DatabaseSync } {
  const logger = options.logger ?? createLogger()
  const { ssc, counts } = wordCountJob({ ...options, app: 'wordcount', logger })
  const db = openCountsDatabase(options.database)
  counts.foreachBatch(async (rdd, batch) => {
    const counts = await rdd.collect()
    await writeCounts(db, batch, counts, options.hooks)
  })
  return { ssc, db }
}

if (import.meta.main) {
  const brokers = (process.env.KAFKA_BOOTSTRAP ?? '127.0.0.1:9092').split(',')
  const { ssc, db } = defineWordCount({
    brokers,
    topic: process.env.TOPIC ?? 'words',
    checkpoint: process.env.CHECKPOINT ?? '.sluice/wordcount-checkpoint',
    database: process.env.DATABASE ?? '.sluice/wordcount.db',
  })
  await ssc.start()
  await ssc.awaitTermination()
  const top = [...wordTotals(db).entries()].sort((a, b) => b[1] - a[1]).slice(0, 10)
  for (const [word, count] of top) console.log(`${word}\t${count}`)
  db.close()
}
