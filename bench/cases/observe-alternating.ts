// The direct stream word count of stream-wordcount.ts, with its web UI and metrics switched on
// and off every few batches inside one process, and watched while on (bench/ui-watcher.ts).
// Two runs of the same program in two processes differ by several percent, because V8 sizes
// the young generation and compiles the hot functions a little differently in each; segments
// of one process share all of that, so what differs between them is the UI alone.
//
// Arguments after the usual four: batch interval (ms), maxRatePerPartition, batches per
// segment, 'on' or 'off' for the first segment, and 'control' to keep the UI off in every
// segment while naming them as if it switched, which measures the method's own noise.
// While the job's UI is off, the watcher follows a stand-in UI in its own process that
// replays a batch of this job (bench/ui-stand-in.ts), so the machine carries the same load
// in every segment; `--idle-off` leaves the watcher idle instead.
// `--watcher-core=N` pins the watcher. Segments go on, off, off, on, on, off... (or the
// reverse), so a job that slowly speeds up or slows down favours neither.
// Prints the segments: whether the UI was on, records, ms and CPU ms of each.
import { createLogger } from '../../src/core/logger.ts'
import { attachObservability } from '../../src/observe/index.ts'
import { createDirectStream } from '../../src/source/direct-stream.ts'
import { StreamingContext } from '../../src/stream/streaming-context.ts'
import { caseArgs, report } from '../env.ts'
import { BatchRecorder } from '../ui-stand-in.ts'
import { UiWatcher, type WatcherReport } from '../ui-watcher.ts'

const { brokers, topic, partitions, perPartition } = caseArgs()
const positional = process.argv.slice(6).filter((arg) => !arg.startsWith('--'))
const interval = Number(positional[0])
const maxRatePerPartition = Number(positional[1])
const segmentBatches = Number(positional[2])
const firstOn = positional[3] === 'on'
const control = positional[4] === 'control'
const watcherCoreFlag = process.argv.find((arg) => arg.startsWith('--watcher-core='))
const watcherCore = watcherCoreFlag === undefined ? undefined : Number(watcherCoreFlag.split('=')[1])
const standInWhileOff = !process.argv.includes('--idle-off')
/** Batches before the first segment: the hot functions compile and the heap grows to size. */
const warmupBatches = 10

const ssc = new StreamingContext({
  appName: 'bench-wordcount',
  batchInterval: interval,
  logger: createLogger({ level: 'error' }),
})
createDirectStream<string, string>(ssc, {
  brokers,
  subscribe: [topic],
  startingOffsets: 'earliest',
  deserializers: { value: 'string' },
  maxRatePerPartition,
})
  .flatMap((r) => r.value!.split(' '))
  .map((w): [string, number] => [w, 1])
  .reduceByKey((a, b) => a + b)
  .foreachBatch(async (rdd) => {
    await rdd.collect()
  })

const recorder = new BatchRecorder(ssc, warmupBatches - 2)

/** Where the job stood when a batch completed. */
interface Mark {
  readonly records: number
  readonly at: number
  readonly cpu: NodeJS.CpuUsage
  /** The backlog ran out before the batches waited for: the segment is not whole. */
  readonly short: boolean
}
let records = 0
let completed = 0
let waiting: { until: number; resolve: (mark: Mark) => void } | undefined
ssc.addListener({
  onBatchCompleted: (info) => {
    if (info.records === 0) return
    records += info.records
    completed++
    // A batch may read more or fewer records than the rate allows on average, so the count
    // of batches is an estimate: running out of records ends the wait too.
    const exhausted = records >= partitions * perPartition
    if (waiting && (completed >= waiting.until || exhausted)) {
      const { resolve, until } = waiting
      waiting = undefined
      resolve({ records, at: performance.now(), cpu: process.cpuUsage(), short: completed < until })
    }
  },
})
const afterBatches = (count: number) =>
  new Promise<Mark>((resolve) => {
    if (records >= partitions * perPartition) {
      resolve({ records, at: performance.now(), cpu: process.cpuUsage(), short: true })
    } else {
      waiting = { until: completed + count, resolve }
    }
  })

// Each segment: switch, let one batch pass (the switch itself is not measured), then measure.
const segmentCost = segmentBatches + 1
/** What one segment of batches did, the UI on or off throughout. */
export interface Segment {
  readonly uiOn: boolean
  readonly records: number
  readonly ms: number
  readonly cpuMs: number
}
const segments: Segment[] = []
/** The watcher's requests and CPU time in a segment, and whose UI it watched. */
export interface WatchedSpell extends WatcherReport {
  readonly watched: 'job' | 'stand-in'
}
const watched: WatchedSpell[] = []
const watcher = UiWatcher.start(watcherCore)
const totalBatches = Math.floor(
  (partitions * perPartition) / ((partitions * maxRatePerPartition * interval) / 1000),
)
await ssc.start()
await afterBatches(warmupBatches)
await watcher.record(await recorder.recording)
while (completed + segmentCost <= totalBatches) {
  const uiOn = firstOn !== (((segments.length + 1) >> 1) % 2 === 1)
  const ui = uiOn && !control ? await attachObservability(ssc, { port: 0 }) : undefined
  if (ui) await watcher.watch(ui.url)
  else if (standInWhileOff) await watcher.watchStandIn()
  const start = await afterBatches(1)
  const end = start.short ? start : await afterBatches(segmentBatches)
  const spell = ui || standInWhileOff ? await watcher.unwatch() : undefined
  await ui?.close()
  if (end.short) break
  if (spell) watched.push({ ...spell, watched: ui ? 'job' : 'stand-in' })
  const cpu = process.cpuUsage(start.cpu)
  segments.push({
    uiOn,
    records: end.records - start.records,
    ms: end.at - start.at,
    cpuMs: (cpu.user + cpu.system) / 1000,
  })
}
await ssc.stop()
await watcher.close()
report({
  name: `sluice direct stream word count, UI switched every ${segmentBatches} batches`,
  records,
  ms: segments.reduce((sum, s) => sum + s.ms, 0),
  extra: { segments, watched },
})
