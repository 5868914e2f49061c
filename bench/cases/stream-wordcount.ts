// sluice: a direct stream word count over a backlog, until every record has been counted.
// Optional 5th/6th arguments: batch interval (ms, default 1000) and maxRatePerPartition (0 = none);
// `--check-crcs=false` anywhere turns record batch checksums off.
import { createLogger } from '../../src/core/logger.ts'
import { createDirectStream } from '../../src/source/direct-stream.ts'
import { StreamingContext } from '../../src/stream/streaming-context.ts'
import { caseArgs, report, SteadyClock } from '../env.ts'
import { runUntilConsumed } from '../stream-run.ts'

const { brokers, topic, partitions, perPartition } = caseArgs()
const positional = process.argv.slice(6).filter((arg) => !arg.startsWith('--'))
const interval = Number(positional[0] ?? 1000)
const maxRatePerPartition = Number(positional[1] ?? 0)
const checkCrcs = !process.argv.includes('--check-crcs=false')
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
  ...(checkCrcs ? {} : { checkCrcs }),
})
const clock = new SteadyClock()
let distinct = 0
lines
  .flatMap((r) => {
    clock.sawRecord()
    return r.value!.split(' ')
  })
  .map((w): [string, number] => [w, 1])
  .reduceByKey((a, b) => a + b)
  .foreachBatch(async (rdd) => {
    distinct = Math.max(distinct, (await rdd.collect()).length)
  })
const run = await runUntilConsumed(ssc, partitions * perPartition)
const { ms, cpuMs, startupMs } = clock.stop(run.doneAt)
report({
  name: `sluice direct stream word count (${interval} ms batches${checkCrcs ? '' : ', checkCrcs off'})`,
  records: run.records,
  ms,
  extra: {
    batches: run.batches,
    distinct,
    cpuMs,
    startupMs,
  },
})
