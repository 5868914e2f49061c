// One process of the scale-out word count: the SQL word count example (PostgreSQL) in a
// consumer group. Prints `{"ready":true}` once loaded and starts when a `go` line comes on
// stdin (so that every process joins at once, startup aside); then a JSON line for each
// assignment it gets, and `{"stopped":true}` when a SIGTERM stopped it gracefully. The
// orchestrator (bench/scale-out.ts) measures the rest from the offsets table.
//   node bench/cases/scale-out-member.ts <brokers> <topic> <group> <app> <postgres url> <table> <offsets table>

import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { startSqlWordCount } from '../../examples/wordcount-sql.ts'
import { createLogger } from '../../src/core/logger.ts'
import { scaleOutGroupTimeouts } from '../scale-out-settings.ts'
import { batchIntervalMs, maxRatePerPartition } from '../sink-wordcount-settings.ts'

const [brokers, topic, group, app, connectionString, table, offsetsTable] = process.argv.slice(2)
if (!offsetsTable)
  throw new Error('usage: <brokers> <topic> <group> <app> <postgres url> <table> <offsets table>')

const logger = createLogger({
  level: 'info',
  sink: (line) => {
    const entry = JSON.parse(line) as {
      level: string
      msg: string
      generation?: number
      partitions?: string[]
    }
    if (entry.msg === 'partitions assigned') {
      const partitions = (entry.partitions ?? []).map((p) => Number(p.slice(p.lastIndexOf('-') + 1)))
      process.stdout.write(`${JSON.stringify({ assigned: { generation: entry.generation, partitions } })}\n`)
    } else if (entry.level === 'warn' || entry.level === 'error') {
      process.stderr.write(line)
    }
  },
})

const input = createInterface({ input: process.stdin })
process.stdout.write(`${JSON.stringify({ ready: true })}\n`)
await once(input, 'line')
input.close()

const { done } = await startSqlWordCount({
  brokers: brokers!.split(','),
  topic: topic!,
  app: app!,
  database: { postgres: { connectionString: connectionString! } },
  table: table!,
  offsetsTable,
  batchInterval: batchIntervalMs,
  maxRatePerPartition,
  logger,
  group: { id: group!, ...scaleOutGroupTimeouts },
})
await done
process.stdout.write(`${JSON.stringify({ stopped: true })}\n`)
