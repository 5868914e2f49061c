// One mode (direct | receiver-wal | receiver) on a live topic for a while, reading every
// record; the output then sleeps `sleepMs` per batch (0: none). Reports memory every 2 s —
// live memory is the JS heap plus the Buffers it holds (received blocks live in Buffers,
// outside the heap), after a full GC when run with --expose-gc — what the receiver holds, and the latency of
// each record from its timestamp to the commit of its batch, as a histogram in 10 ms buckets.
// Arguments: brokers, topic, partitions, mode, seconds, sleepMs, checkpoint directory.
import { setTimeout as sleep } from 'node:timers/promises'
import { createLogger } from '../../src/core/logger.ts'
import { StreamingContext } from '../../src/stream/streaming-context.ts'
import { report } from '../env.ts'
import { isMode, modeInput, receiverOf } from '../receiver-modes.ts'

const [brokers = '', topic = '', partitions = '1', mode, seconds = '30', sleepMs = '0', checkpoint = ''] =
  process.argv.slice(2)
if (!isMode(mode)) throw new Error(`unknown mode ${mode}`)
const ssc = new StreamingContext({
  appName: `bench-steady-${mode}`,
  batchInterval: 500,
  checkpoint,
  logger: createLogger({ level: 'error' }),
})
const input = modeInput(ssc, mode, {
  brokers: brokers.split(','),
  topic,
  group: `bench-steady-${mode}-${Date.now()}`,
  startingOffsets: 'latest',
  rate: 0,
  partitions: Number(partitions),
})
const receiver = receiverOf(input)
const bucketMs = 10
/** Per batch id, how many of its records fall in each 10 ms bucket of record timestamps. */
const buckets = new Map<number, Map<number, number>>()
input
  .map((record) => Math.floor(record.timestamp / bucketMs))
  .foreachBatch(async (rdd, batch) => {
    buckets.set(batch.id, await rdd.countByValue())
    if (Number(sleepMs) > 0) await sleep(Number(sleepMs))
  })
const latency = new Map<number, number>() // latency bucket (10 ms) -> records
let records = 0
ssc.addListener({
  onBatchCompleted: (info) => {
    const committedAt = Date.now()
    for (const [bucket, count] of buckets.get(info.id) ?? []) {
      const ms = Math.max(0, Math.floor((committedAt - bucket * bucketMs) / bucketMs))
      latency.set(ms, (latency.get(ms) ?? 0) + count)
      records += count
    }
    buckets.delete(info.id)
  },
})
const gc = (globalThis as { gc?: () => void }).gc
const samples: { s: number; liveMb: number | null; rssMb: number; receiverMb: number }[] = []
const started = performance.now()
await ssc.start()
for (let s = 2; s <= Number(seconds); s += 2) {
  await sleep(started + s * 1000 - performance.now())
  gc?.()
  const memory = process.memoryUsage()
  samples.push({
    s,
    liveMb: gc ? Math.round((memory.heapUsed + memory.external) / 2 ** 20) : null,
    rssMb: Math.round(memory.rss / 2 ** 20),
    receiverMb: Math.round((receiver?.stats.memoryBytes ?? 0) / 2 ** 20),
  })
}
const ms = performance.now() - started
const unprocessed = receiver ? receiver.stats.receivedRecords - records : null
await ssc.stop({ graceful: false })
report({
  name: mode,
  records,
  ms,
  extra: { samples, latency: [...latency].sort((a, b) => a[0] - b[0]), unprocessed },
})
