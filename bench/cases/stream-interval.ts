// A direct stream at a given batch interval over a live topic: reads every record of each
// batch and reports the scheduling delay of each of `batches` batches.
import { createLogger } from '../../src/core/logger.ts'
import { createDirectStream } from '../../src/source/direct-stream.ts'
import { StreamingContext } from '../../src/stream/streaming-context.ts'
import { report } from '../env.ts'

const [brokers, topic, interval, batches] = process.argv.slice(2)
const ssc = new StreamingContext({
  appName: 'bench-interval',
  batchInterval: Number(interval),
  logger: createLogger({ level: 'error' }),
})
const stream = createDirectStream(ssc, {
  brokers: brokers!.split(','),
  subscribe: [topic!],
  startingOffsets: 'latest',
})
stream
  .map((record) => record.value?.length ?? 0)
  .foreachBatch(async (rdd) => {
    await rdd.reduce((a, b) => a + b).catch(() => 0)
  })
const delays: number[] = []
const processing: number[] = []
let records = 0
const done = Promise.withResolvers<void>()
ssc.addListener({
  onBatchCompleted: (info) => {
    // The first batches warm up (JIT, connections): measure the ones after them.
    if (info.id < 5) return
    delays.push(info.schedulingDelay)
    processing.push(info.processingTime)
    records += info.records
    if (delays.length >= Number(batches)) done.resolve()
  },
})
const started = performance.now()
await ssc.start()
await done.promise
const ms = performance.now() - started
await ssc.stop()
report({ name: `stream at ${interval} ms`, records, ms, extra: { delays, processing } })
