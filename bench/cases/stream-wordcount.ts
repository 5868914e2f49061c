// sluice: a direct stream word count over a backlog, until every record has been counted.
// Optional 5th/6th arguments: batch interval (ms, default 1000) and maxRatePerPartition (0 = none).
// A 7th argument 'observed' turns on the web UI and metrics, and reads them the way an open
// UI page and a Prometheus server would while the job runs.
import { createLogger } from '../../src/core/logger.ts'
import { createDirectStream } from '../../src/source/direct-stream.ts'
import { StreamingContext } from '../../src/stream/streaming-context.ts'
import { caseArgs, report } from '../env.ts'
import { runUntilConsumed } from '../stream-run.ts'
import { watchUi } from '../ui-watcher.ts'

const { brokers, topic, partitions, perPartition } = caseArgs()
const interval = Number(process.argv[6] ?? 1000)
const maxRatePerPartition = Number(process.argv[7] ?? 0)
const observed = process.argv[8] === 'observed'
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
const watcher = observed ? await watchUi(ssc) : undefined
const cpuBefore = process.cpuUsage()
const run = await runUntilConsumed(ssc, partitions * perPartition)
const cpu = process.cpuUsage(cpuBefore)
const uiRequests = await watcher?.stop()
report({
  name: `sluice direct stream word count (${interval} ms batches${observed ? ', UI and metrics on' : ''})`,
  records: run.records,
  ms: run.ms,
  extra: {
    batches: run.batches,
    distinct,
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    ...(uiRequests === undefined ? {} : { uiRequests }),
  },
})
