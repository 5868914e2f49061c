// The direct stream against the receiver it replaced (with and without its write-ahead log),
// in one run, each measure on one topic for all three: throughput draining a backlog,
// memory while processing is slower than input, storage written per record, latency, and
// what 20 SIGKILLs cost. docs/receiver-vs-direct.md explains what the figures show.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { CaseResult } from './env.ts'
import { fillTopic } from './env.ts'
import { type CrashOutcome, crashRuns } from './receiver-crash.ts'
import { MODES, type Mode } from './receiver-modes.ts'
import type { Bench, BenchContext } from './registry.ts'
import { ratio } from './stats.ts'

const partitions = 4
const backlog = 2_000_000
const steadyRate = 10_000
const memorySeconds = 60
/** When the memory samples shown were taken, in seconds. */
const marks = [20, 40, 60]
const slowOutputMs = 1_000
const latencyRate = 5_000
const latencySeconds = 20
const crashPerPartition = 10_000
const crashRate = 2_000
const kills = 20

const cases = join(import.meta.dirname, 'cases')
const label: Record<Mode, string> = {
  direct: 'direct',
  'receiver-wal': 'receiver + WAL',
  receiver: 'receiver, no WAL',
}

function percentile(histogram: readonly [number, number][], p: number, bucketMs: number): number {
  const total = histogram.reduce((sum, [, n]) => sum + n, 0)
  let seen = 0
  for (const [bucket, n] of histogram) {
    seen += n
    if (seen >= (p / 100) * total) return bucket * bucketMs
  }
  return Number.NaN
}

async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  try {
    return await fn(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

async function drain({ client, brokers, runCase }: BenchContext): Promise<Record<Mode, CaseResult>> {
  const topic = `bench-rvd-backlog-${Date.now()}`
  await client.createTopics([{ name: topic, partitions }])
  try {
    await fillTopic(client, topic, partitions, backlog / partitions)
    const results = {} as Record<Mode, CaseResult>
    for (const mode of MODES) {
      results[mode] = await withTempDir('sluice-rvd-', (dir) =>
        runCase(join(cases, 'receiver-drain.ts'), [
          brokers.join(','),
          topic,
          String(partitions),
          String(backlog / partitions),
          mode,
          join(dir, 'checkpoint'),
        ]),
      )
      if (results[mode].records !== backlog) throw new Error(`${mode} read ${results[mode].records} records`)
    }
    return results
  } finally {
    await client.deleteTopics([topic])
  }
}

/** Runs `fn` while a producer process writes `rate` records/s to a fresh topic. */
async function whileProducing<T>(
  { client, brokers }: BenchContext,
  rate: number,
  fn: (topic: string) => Promise<T>,
): Promise<T> {
  const topic = `bench-rvd-steady-${Date.now()}`
  await client.createTopics([{ name: topic, partitions }])
  const producer = spawn(
    process.execPath,
    [join(cases, 'steady-producer.ts'), brokers.join(','), topic, String(rate), String(partitions)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  try {
    for await (const line of createInterface({ input: producer.stdout! })) if (line === 'producing') break
    return await fn(topic)
  } finally {
    producer.kill('SIGKILL')
    await client.deleteTopics([topic])
  }
}

async function steady(
  context: BenchContext,
  topic: string,
  seconds: number,
  sleepMs: number,
  flags: readonly string[] = [],
): Promise<Record<Mode, CaseResult>> {
  const results = {} as Record<Mode, CaseResult>
  for (const mode of MODES) {
    results[mode] = await withTempDir('sluice-rvd-', (dir) =>
      context.runCase(
        join(cases, 'receiver-steady.ts'),
        [
          context.brokers.join(','),
          topic,
          String(partitions),
          mode,
          String(seconds),
          String(sleepMs),
          join(dir, 'checkpoint'),
        ],
        flags,
      ),
    )
  }
  return results
}

async function crashes(context: BenchContext): Promise<Record<Mode, CrashOutcome>> {
  const topic = `bench-rvd-crash-${Date.now()}`
  await context.client.createTopics([{ name: topic, partitions }])
  try {
    await fillTopic(context.client, topic, partitions, crashPerPartition)
    const results = {} as Record<Mode, CrashOutcome>
    for (const mode of MODES) {
      results[mode] = await withTempDir('sluice-rvd-crash-', (dir) =>
        crashRuns({
          client: context.client,
          brokers: context.brokers,
          topic,
          partitions,
          perPartition: crashPerPartition,
          mode,
          dir,
          kills,
          rate: crashRate,
          seed: 20,
        }),
      )
    }
    return results
  } finally {
    await context.client.deleteTopics([topic])
  }
}

type Samples = { s: number; liveMb: number | null; rssMb: number; receiverMb: number }[]

export const receiverVsDirect: Bench = {
  name: 'receiver-vs-direct',
  description:
    `The direct stream against the receiver (Spark's createStream), with and without its write-ahead log, in one run; each measure runs all three on one topic of ${partitions} partitions, 100-byte records. ` +
    `Throughput: a backlog of ${backlog.toLocaleString('en')} records, no rate limit, every record read, 1 s batches. ` +
    `Memory: a producer writes ${steadyRate.toLocaleString('en')} records/s while the output sleeps ${slowOutputMs} ms per 500 ms batch, for ${memorySeconds} s (peak RSS from a plain run; live memory — heap plus Buffers — every 2 s after a full GC, from a run with --expose-gc). ` +
    `Storage: bytes the job process wrote to disk (/proc/self/io write_bytes) while draining the backlog, per record. ` +
    `Latency: ${latencyRate.toLocaleString('en')} records/s, output keeping up, ${latencySeconds} s; record timestamp to its batch's commit. ` +
    `Crashes: ${(partitions * crashPerPartition).toLocaleString('en')} records read at ${crashRate.toLocaleString('en')}/s, the job SIGKILLed ${kills} times at random moments (0.2-1.5 s after each start), then a last run reads the rest; copies of each record counted in the batches' output files.`,
  async run(context) {
    const drained = await drain(context)
    const memoryRss = await whileProducing(context, steadyRate, (topic) =>
      steady(context, topic, memorySeconds, slowOutputMs),
    )
    const memoryLive = await whileProducing(context, steadyRate, (topic) =>
      steady(context, topic, memorySeconds, slowOutputMs, ['--expose-gc']),
    )
    const latency = await whileProducing(context, latencyRate, (topic) =>
      steady(context, topic, latencySeconds, 0),
    )
    const crashed = await crashes(context)

    const rate = (mode: Mode) => Math.round((drained[mode].records / drained[mode].ms) * 1000)
    const perRecord = (mode: Mode) => {
      const bytes = drained[mode].extra!.storageBytes as number | null
      return bytes === null ? 'n/a' : (bytes / drained[mode].records).toFixed(1)
    }
    const samples = (mode: Mode) => memoryLive[mode].extra!.samples as Samples
    const liveAt = (mode: Mode, s: number) => samples(mode).find((x) => x.s === s)?.liveMb ?? 'n/a'
    const histogram = (mode: Mode) => latency[mode].extra!.latency as [number, number][]
    const row = (name: string, value: (mode: Mode) => string | number) =>
      `| ${name} | ${MODES.map((mode) => value(mode)).join(' | ')} |`
    const lines = [
      `| measure | ${MODES.map((m) => label[m]).join(' | ')} |`,
      '|---|---:|---:|---:|',
      row(`records/s draining ${backlog.toLocaleString('en')}`, (m) => rate(m).toLocaleString('en')),
      row('… relative to direct', (m) => `${ratio(rate(m), rate('direct'))}x`),
      row(
        'batches to drain it (largest batch)',
        (m) =>
          `${drained[m].extra!.batches} (${(drained[m].extra!.largestBatch as number).toLocaleString('en')})`,
      ),
      row('tasks per batch with records: fewest / most', (m) => {
        const tasks = drained[m].extra!.tasks as number[]
        return `${Math.min(...tasks)} / ${Math.max(...tasks)}`
      }),
      row('storage bytes written per record', perRecord),
      row('… of which write-ahead log bytes per record', (m) =>
        ((drained[m].extra!.walBytes as number) / drained[m].records).toFixed(1),
      ),
      row(`peak RSS MB, processing slower than input (${memorySeconds} s)`, (m) => memoryRss[m].maxRssMb),
      row(`live memory MB (heap + Buffers, after a full GC) at ${marks.join(' / ')} s`, (m) =>
        marks.map((s) => liveAt(m, s)).join(' / '),
      ),
      row(`MB of received blocks held at ${marks.join(' / ')} s`, (m) =>
        marks.map((s) => samples(m).find((x) => x.s === s)?.receiverMb ?? 'n/a').join(' / '),
      ),
      row('records processed in that time', (m) => memoryRss[m].records.toLocaleString('en')),
      row(`latency p50 / p99 / max ms (${latencyRate.toLocaleString('en')}/s, keeping up)`, (m) =>
        [50, 99, 100].map((p) => percentile(histogram(m), p, 10)).join(' / '),
      ),
      row(`after ${kills} SIGKILLs: duplicates`, (m) => crashed[m].duplicates.toLocaleString('en')),
      row(`after ${kills} SIGKILLs: lost`, (m) => crashed[m].lost.toLocaleString('en')),
    ]
    return [
      ...lines,
      '',
      `throughput receiver + WAL / direct: **${ratio(rate('receiver-wal'), rate('direct'))}x**; receiver without WAL / direct: **${ratio(rate('receiver'), rate('direct'))}x**`,
      `live memory at ${marks.at(-1)} s / at ${marks[0]} s, processing slower than input: ${MODES.map((m) => `${label[m]} **${ratio(Number(liveAt(m, marks.at(-1)!)), Number(liveAt(m, marks[0]!)))}x**`).join(', ')}`,
      `The machine is shared: compare the columns of one run, not figures across runs.`,
    ]
  },
}
