// A job the receiver-vs-direct benchmark SIGKILLs again and again: one mode reads a topic and
// writes each batch's records (`partition offset` lines) to <out>/<batchId>.txt, replaced
// atomically, so a re-run batch rewrites its own file and every copy of a record in <out> was
// processed by a distinct batch. Prints `started` once running. Arguments: brokers, topic,
// partitions, mode, group, checkpoint, out, rate (records/s, 0 = none).
import { renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createLogger } from '../../src/core/logger.ts'
import { StreamingContext } from '../../src/stream/streaming-context.ts'
import { isMode, modeInput } from '../receiver-modes.ts'

const [brokers = '', topic = '', partitions = '1', mode, group = '', checkpoint = '', out = '', rate = '0'] =
  process.argv.slice(2)
if (!isMode(mode)) throw new Error(`unknown mode ${mode}`)
const ssc = new StreamingContext({
  appName: `bench-crash-${mode}`,
  batchInterval: 300,
  checkpoint,
  logger: createLogger({ level: 'error' }),
})
modeInput(ssc, mode, {
  brokers: brokers.split(','),
  topic,
  group,
  startingOffsets: 'earliest',
  rate: Number(rate),
  partitions: Number(partitions),
})
  .map((record) => `${record.partition} ${record.offset}`)
  .foreachBatch(async (rdd, batch) => {
    const lines = await rdd.collect()
    const file = join(out, `${batch.id}.txt`)
    writeFileSync(`${file}.tmp`, lines.length === 0 ? '' : `${lines.join('\n')}\n`)
    renameSync(`${file}.tmp`, file)
  })
await ssc.start()
process.stdout.write('started\n')
await ssc.awaitTermination()
process.stdout.write('stopped\n')
