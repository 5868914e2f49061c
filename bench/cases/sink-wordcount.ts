// One run of the word count stream with one output: `noop` (the counts are collected and
// dropped), `sqlite` or `postgres` (the counts are upserted through the exactly-once SQL
// sink, one transaction per batch with the offsets). Measures the end-to-end time from
// ssc.start() to the commit of the batch that holds the last record, and how much of the
// batches' processing time was spent in sink.writeBatch.
//   node bench/cases/sink-wordcount.ts <brokers> <topic> <partitions> <perPartition> <output> [postgres url]
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { countsTableDdl } from '../../examples/wordcount-sql.ts'
import { silentLogger } from '../../src/core/logger.ts'
import { createSqlSink, type SqlSink } from '../../src/sinks/sql/sql-sink.ts'
import { createDirectStream } from '../../src/source/direct-stream.ts'
import { StreamingContext } from '../../src/stream/streaming-context.ts'
import { caseArgs, report } from '../env.ts'
import { batchIntervalMs, maxRatePerPartition } from '../sink-wordcount-settings.ts'

const { brokers, topic, partitions, perPartition } = caseArgs()
const output = process.argv[6]
if (output !== 'noop' && output !== 'sqlite' && output !== 'postgres') {
  throw new Error(`output must be noop, sqlite or postgres, got '${output}'`)
}
const total = partitions * perPartition
const app = `bench-${randomBytes(4).toString('hex')}`
const table = `counts_${randomBytes(4).toString('hex')}`
const offsetsTable = `offsets_${randomBytes(4).toString('hex')}`

let sink: SqlSink | undefined
let cleanup = async () => {}
if (output === 'sqlite') {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-sqlite-'))
  const path = join(dir, 'counts.db')
  const { DatabaseSync } = await import('node:sqlite')
  const db = new DatabaseSync(path)
  db.exec(countsTableDdl('sqlite', table))
  db.close()
  sink = createSqlSink({ app, sqlite: { path }, tables: [table], offsetsTable, logger: silentLogger })
  cleanup = async () => rmSync(dir, { recursive: true, force: true })
} else if (output === 'postgres') {
  const connectionString = process.argv[7]!
  const admin = new pg.Client({ connectionString })
  await admin.connect()
  await admin.query(countsTableDdl('postgres', table))
  sink = createSqlSink({
    app,
    postgres: { connectionString },
    tables: [table],
    offsetsTable,
    logger: silentLogger,
  })
  cleanup = async () => {
    await admin.query(`DROP TABLE "${table}", "${offsetsTable}"`)
    await admin.end()
  }
}
await sink?.start()

const ssc = new StreamingContext({ appName: app, batchInterval: batchIntervalMs, logger: silentLogger })
const lines = createDirectStream<string, string>(ssc, {
  brokers,
  subscribe: [topic],
  startingOffsets: sink ? await sink.storedOffsets() : 'earliest',
  deserializers: { value: 'string' },
  maxRatePerPartition,
  logger: silentLogger,
})
let sinkMs = 0
lines
  .flatMap((record) => record.value!.split(' '))
  .map((word): [string, number] => [word, 1])
  .reduceByKey((a, b) => a + b)
  .foreachBatch(async (rdd, batch) => {
    const rows = (await rdd.collect()).map(([word, count]) => ({ word, count }))
    if (!sink) return
    const started = performance.now()
    await sink.writeBatch(batch, (tx) => tx.upsert(table, ['word'], rows, { add: ['count'] }))
    sinkMs += performance.now() - started
  })

let records = 0
let batchMs = 0
let batches = 0
const finished = Promise.withResolvers<void>()
ssc.addListener({
  onBatchCompleted: (info) => {
    if (info.records === 0) return
    records += info.records
    batchMs += info.processingTime
    batches++
    if (records >= total) finished.resolve()
  },
})
const started = performance.now()
await ssc.start()
await finished.promise
const ms = performance.now() - started
await ssc.stop()
await sink?.close()
await cleanup()
report({
  name: output === 'noop' ? 'no-op output' : `${output === 'sqlite' ? 'SQLite' : 'PostgreSQL'} sink`,
  records,
  ms,
  extra: { sinkMs: Math.round(sinkMs), batchMs, batches },
})
