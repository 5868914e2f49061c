import { join } from 'node:path'
import type { CaseResult } from './env.ts'
import type { Bench } from './registry.ts'
import { median, ratio, summarize, table } from './stats.ts'
import { fillWithLines } from './text.ts'

const partitions = 8
const perPartition = 1_000_000
/** Identical pairs of runs differ by up to ±10%: nine pairs give a median that holds still. */
const repeats = 9
/**
 * 50 ms batches of at most 10,000 lines per partition: 80,000 lines a batch, so 100 batches,
 * back to back. A run of 25 batches (3 s) moved by ±10% between identical runs, more than
 * the effect measured; 100 batches (about 10 s) keep per-batch costs in view with less noise.
 */
const interval = 50
const maxRatePerPartition = 200_000

export const observeOverhead: Bench = {
  name: 'observe-overhead',
  description: `The cost of the web UI and metrics: the direct stream word count over ${(partitions * perPartition).toLocaleString('en')} lines in ${partitions} partitions, in ${interval} ms batches of at most ${((maxRatePerPartition * interval) / 1000).toLocaleString('en')} lines per partition (many small batches, each slower than the interval, so per-batch costs show), with the UI and metrics on — watched from another process that scrapes /metrics every 5 seconds and fetches the Streaming page's API documents on every change, as an open page does — against the same job with them off. Median of ${repeats} runs each, alternating.`,
  async run({ client, brokers, runCase }) {
    const topic = `bench-observe-${Date.now()}`
    await client.createTopics([{ name: topic, partitions }])
    try {
      await fillWithLines(client, topic, partitions, perPartition)
      const args = [
        brokers.join(','),
        topic,
        String(partitions),
        String(perPartition),
        String(interval),
        String(maxRatePerPartition),
      ]
      const file = join(import.meta.dirname, 'cases', 'stream-wordcount.ts')
      const runs: Record<'off' | 'on', CaseResult[]> = { off: [], on: [] }
      for (let i = 0; i < repeats; i++) {
        runs.off.push(await runCase(file, args))
        runs.on.push(await runCase(file, [...args, 'observed']))
      }
      const off = summarize(runs.off)
      const on = summarize(runs.on)
      const batches = runs.on.map((r) => r.extra?.batches)
      const requests = runs.on.map((r) => r.extra?.uiRequests)
      const watcherCpu = median(runs.on.map((r) => Number(r.extra?.watcherCpuMs)))
      const rate = (r: CaseResult) => r.records / r.ms
      const cpu = (results: CaseResult[]) => median(results.map((r) => Number(r.extra?.cpuMs)))
      return [
        ...table([on, off]),
        '',
        `batches per run: ${batches.join(', ')}; UI and metrics requests served per run: ${requests.join(', ')}`,
        `records/s with the UI and metrics on / off: **${ratio(on.recordsPerSecond, off.recordsPerSecond)}x** (aim: 0.98x or better)`,
        `records/s on / off of each alternating pair: ${runs.on.map((r, i) => ratio(rate(r), rate(runs.off[i]!))).join(', ')}`,
        `CPU time of the job process (median), off / on: ${ratio(cpu(runs.off), cpu(runs.on))}x; peak RSS, on / off: ${ratio(on.peakRssMb, off.peakRssMb)}x`,
        `CPU time of the watcher process (median), which shares the machine with the job and the broker: ${watcherCpu} ms, ${ratio(watcherCpu, cpu(runs.on))}x the job's`,
      ]
    } finally {
      await client.deleteTopics([topic])
    }
  },
}
