// sluice: a direct stream that reads every record of a backlog (summing value sizes per
// batch) under a rate limit, until the backlog is consumed. Arguments after the usual four:
// batch interval (ms) and maxRatePerPartition.
import { createLogger } from '../../src/core/logger.ts'
import { createDirectStream } from '../../src/source/direct-stream.ts'
import { StreamingContext } from '../../src/stream/streaming-context.ts'
import { caseArgs, report } from '../env.ts'
import { runUntilConsumed } from '../stream-run.ts'

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
stream
  .map((record) => record.value?.length ?? 0)
  .foreachBatch(async (rdd) => {
    if (await rdd.isEmpty()) return
    bytes += await rdd.reduce((a, b) => a + b)
  })
const run = await runUntilConsumed(ssc, total)
report({
  name: `sluice stream, ${total.toLocaleString('en')} backlog`,
  records: run.records,
  ms: run.ms,
  extra: { bytes, batches: run.batches, largestBatch: run.largestBatch },
})
