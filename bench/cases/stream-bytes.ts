// sluice: a direct stream that reads every record of a backlog (summing value sizes per
// batch) under a rate limit, until the backlog is consumed. Arguments after the usual four:
// batch interval (ms) and maxRatePerPartition.
import { createLogger } from '../../src/core/logger.ts'
import { createDirectStream } from '../../src/source/direct-stream.ts'
import { StreamingContext } from '../../src/stream/streaming-context.ts'
import { caseArgs, report } from '../env.ts'

const { brokers, topic, partitions, perPartition } = caseArgs()
const interval = Number(process.argv[6] ?? 1000)
const maxRatePerPartition = Number(process.argv[7] ?? 0)
const total = partitions * perPartition
const ssc = new StreamingContext({
  appName: 'bench-bytes',
  batchInterval: interval,
  logger: createLogger({ level: 'error' }),
})
const stream = createDirectStream(ssc, {
  brokers,
  subscribe: [topic],
  startingOffsets: 'earliest',
  maxRatePerPartition,
})
let bytes = 0
let read = 0
let batches = 0
let largestBatch = 0
const done = Promise.withResolvers<void>()
stream
  .map((record) => record.value?.length ?? 0)
  .foreachBatch(async (rdd) => {
    if (await rdd.isEmpty()) return
    bytes += await rdd.reduce((a, b) => a + b)
  })
ssc.addListener({
  onBatchCompleted: (info) => {
    read += info.records
    largestBatch = Math.max(largestBatch, info.records)
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
  name: `sluice stream, ${total.toLocaleString('en')} backlog`,
  records: read,
  ms,
  extra: { bytes, batches, largestBatch },
})
