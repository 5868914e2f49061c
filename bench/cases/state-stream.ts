// A streaming job over a prepared topic, run until every record is processed; reports time,
// peak RSS and per-batch figures. Modes:
//   state      updateStateByKey (a running count per key), state checkpointed every 10 batches
//   stateless  the same per-batch shuffle (reduceByKey + count), no state: the peer
//   window     reduceByKeyAndWindow over WINDOW batches, recomputed every batch
//   window-inv the same window, incremental (invFn)
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '../../src/core/logger.ts'
import { createDirectStream } from '../../src/source/direct-stream.ts'
import type { BatchInfo } from '../../src/stream/batch.ts'
import { StreamingContext } from '../../src/stream/streaming-context.ts'
import { caseArgs, report } from '../env.ts'
import { median } from '../stats.ts'

const { brokers, topic, partitions, perPartition } = caseArgs()
const mode = process.argv[6] ?? 'state'
const perBatch = Number(process.argv[7] ?? 25_000) // records per partition per batch
const windowBatches = Number(process.argv[8] ?? 30)
const batchInterval = 100
const total = partitions * perPartition

const checkpoint = mkdtempSync(join(tmpdir(), 'sluice-bench-state-'))
const ssc = new StreamingContext({
  appName: `bench-${mode}`,
  batchInterval,
  checkpoint,
  logger: silentLogger,
})
const pairs = createDirectStream<Buffer, Buffer>(ssc, {
  brokers,
  subscribe: [topic],
  startingOffsets: 'earliest',
  maxRatePerPartition: (perBatch * 1000) / batchInterval,
}).map((r): [string, number] => [r.key!.toString(), 1])

const add = (a: number, b: number) => a + b
const length = windowBatches * batchInterval
if (mode === 'state') {
  pairs
    .updateStateByKey<string, number, number>((values, state) => (state ?? 0) + values.length)
    .foreachBatch(() => {})
} else if (mode === 'stateless') {
  pairs.reduceByKey(add).foreachBatch(async (rdd) => {
    await rdd.count()
  })
} else if (mode === 'window') {
  pairs.reduceByKeyAndWindow(add, length).foreachBatch(async (rdd) => {
    await rdd.count()
  })
} else {
  pairs
    .reduceByKeyAndWindow(add, (a, b) => a - b, length, batchInterval, { filter: ([, n]) => n !== 0 })
    .foreachBatch(async (rdd) => {
      await rdd.count()
    })
}

const infos: BatchInfo[] = []
let records = 0
const done = Promise.withResolvers<void>()
ssc.addListener({
  onBatchCompleted: (info) => {
    infos.push(info)
    records += info.records
    if (records >= total) done.resolve()
  },
  onStreamingStopped: (event) => (event.error ? done.reject(event.error) : done.resolve()),
})
const started = performance.now()
await ssc.start()
await done.promise
const ms = performance.now() - started
await ssc.stop()
rmSync(checkpoint, { recursive: true, force: true })

const last = infos.at(-1)!
// Windows are compared on batches whose window is full.
const steady = mode.startsWith('window') ? infos.filter((i) => i.id >= windowBatches) : infos
report({
  name: mode,
  records,
  ms,
  extra: {
    batches: infos.length,
    medianBatchMs: median(steady.map((i) => i.processingTime)),
    stateKeys: last.stateKeys,
    stateMb: Math.round(last.stateBytes / 1e6),
  },
})
