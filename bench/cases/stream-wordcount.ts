// sluice: a direct stream word count over a backlog, until every record has been counted.
// Optional 5th/6th arguments: batch interval (ms, default 1000) and maxRatePerPartition (0 = none).
import { createLogger } from '../../src/core/logger.ts'
import { createDirectStream } from '../../src/source/direct-stream.ts'
import type { BatchInfo } from '../../src/stream/batch.ts'
import { StreamingContext } from '../../src/stream/streaming-context.ts'
import { caseArgs, report } from '../env.ts'

const { brokers, topic, partitions, perPartition } = caseArgs()
const interval = Number(process.argv[6] ?? 1000)
const maxRatePerPartition = Number(process.argv[7] ?? 0)
const total = partitions * perPartition
const ssc = new StreamingContext({
  appName: 'bench-wordcount',
  batchInterval: interval,
  logger: createLogger({ level: 'error' }),
})
const lines = createDirectStream<string, string>(ssc, {
  brokers,
  subscribe: [topic],
  startingOffsets: 'earliest',
  deserializers: { value: 'string' },
  maxRatePerPartition,
})
let distinct = 0
lines
  .flatMap((r) => r.value!.split(' '))
  .map((w): [string, number] => [w, 1])
  .reduceByKey((a, b) => a + b)
  .foreachBatch(async (rdd) => {
    distinct = Math.max(distinct, (await rdd.collect()).length)
  })
let read = 0
let batches = 0
const done = Promise.withResolvers<void>()
ssc.addListener({
  onBatchCompleted: (info: BatchInfo) => {
    read += info.records
    if (info.records > 0) batches++
    if (read >= total) done.resolve()
  },
})
const started = performance.now()
await ssc.start()
await done.promise
const ms = performance.now() - started
await ssc.stop()
report({
  name: `sluice direct stream word count (${interval} ms batches)`,
  records: read,
  ms,
  extra: { batches, distinct },
})
