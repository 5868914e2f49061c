// One mode (direct | receiver-wal | receiver) drains a backlog with no rate limit, reading
// every record (summing value sizes). Reports the time, and the bytes the process wrote to
// storage (checkpoint, write-ahead log) per record. Arguments after the usual four: mode,
// checkpoint directory.
import { createLogger } from '../../src/core/logger.ts'
import { StreamingContext } from '../../src/stream/streaming-context.ts'
import { caseArgs, report } from '../env.ts'
import { isMode, modeInput, receiverOf, storageBytesWritten } from '../receiver-modes.ts'
import { runUntilConsumed } from '../stream-run.ts'

const { brokers, topic, partitions, perPartition } = caseArgs()
const mode = process.argv[6]
const checkpoint = process.argv[7]!
if (!isMode(mode)) throw new Error(`unknown mode ${mode}`)
const total = partitions * perPartition
const ssc = new StreamingContext({
  appName: `bench-drain-${mode}`,
  batchInterval: 1000,
  checkpoint,
  logger: createLogger({ level: 'error' }),
})
const input = modeInput(ssc, mode, {
  brokers,
  topic,
  group: `bench-drain-${mode}-${Date.now()}`,
  startingOffsets: 'earliest',
  rate: 0,
  partitions,
})
let bytes = 0
/** Tasks (RDD partitions) of each batch with records: Kafka partitions for the direct stream, blocks for a receiver. */
const tasks: number[] = []
input
  .map((record) => record.value?.length ?? 0)
  .foreachBatch(async (rdd) => {
    if (await rdd.isEmpty()) return
    tasks.push(rdd.numPartitions)
    bytes += await rdd.reduce((a, b) => a + b)
  })
const writtenBefore = storageBytesWritten()
const run = await runUntilConsumed(ssc, total)
const writtenAfter = storageBytesWritten()
report({
  name: mode,
  records: run.records,
  ms: run.ms,
  extra: {
    bytes,
    batches: run.batches,
    tasks,
    largestBatch: run.largestBatch,
    storageBytes:
      writtenBefore === undefined || writtenAfter === undefined ? null : writtenAfter - writtenBefore,
    walBytes: receiverOf(input)?.stats.walBytesWritten ?? 0,
  },
})
