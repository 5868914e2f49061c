import { join } from 'node:path'
import { nodeCase, onOneCore, runProcessCase } from './case-process.ts'
import type { Segment, WatchedSpell } from './cases/observe-alternating.ts'
import type { CaseResult } from './env.ts'
import type { Bench } from './registry.ts'
import { median, ratio } from './stats.ts'
import { fillWithLines } from './text.ts'

const partitions = 8
const perPartition = 1_000_000
/**
 * 50 ms batches of at most 10,000 lines per partition: 80,000 lines a batch, so 100 batches,
 * back to back, each slower than the interval: per-batch costs show as much as they can.
 */
const interval = 50
const maxRatePerPartition = 200_000
/** About a second each, so the page fetches its documents two or three times in each. */
const segmentBatches = 10
/**
 * Processes that switch the UI on and off, half of them starting with it on. A 10-batch
 * segment's CPU per record varies by about 8% however the UI stands, so the 95% interval of
 * the figure narrows only as the square root of the runs: about ±3% at the default 12 runs
 * (4 minutes), ±1.5% at 30 (`OBSERVE_OVERHEAD_RUNS=30`, 9 minutes).
 */
const switchingRuns = Number(process.env.OBSERVE_OVERHEAD_RUNS ?? 12)
/** Processes that only pretend to switch: the noise of the method itself. */
const controlRuns = Math.ceil(switchingRuns / 2)
/**
 * While the job's UI is off the watcher follows a stand-in UI in its own process, so that
 * the machine is as loaded as while it is on (bench/ui-stand-in.ts);
 * `OBSERVE_OVERHEAD_OFF=idle` leaves the watcher idle then, as a page closed would.
 */
const idleOff = process.env.OBSERVE_OVERHEAD_OFF === 'idle'
/** The job has a core to itself; the watcher shares the other with the broker. */
const jobCore = 1
const watcherCore = 0

/** Records/s of the "on" segment over its neighbouring "off" one, for each pair in each run. */
function pairRatios(runs: readonly CaseResult[]): number[] {
  const ratios: number[] = []
  for (const run of runs) {
    const segments = run.extra?.segments as Segment[]
    for (let i = 0; i + 1 < segments.length; i += 2) {
      const [a, b] = [segments[i]!, segments[i + 1]!]
      const [on, off] = a.uiOn ? [a, b] : [b, a]
      ratios.push(on.records / on.ms / (off.records / off.ms))
    }
  }
  return ratios
}

function totals(runs: readonly CaseResult[], uiOn: boolean): { records: number; ms: number; cpuMs: number } {
  const segments = runs.flatMap((run) => run.extra?.segments as Segment[]).filter((s) => s.uiOn === uiOn)
  return {
    records: segments.reduce((sum, s) => sum + s.records, 0),
    ms: segments.reduce((sum, s) => sum + s.ms, 0),
    cpuMs: segments.reduce((sum, s) => sum + s.cpuMs, 0),
  }
}

/**
 * The pairs' geometric mean with its 95% interval (normal approximation over log ratios,
 * fair from a few dozen pairs on), and their median and middle half.
 */
function spread(values: readonly number[]): string {
  const sorted = [...values].sort((a, b) => a - b)
  const quarter = Math.floor(sorted.length / 4)
  const logs = values.map(Math.log)
  const mean = logs.reduce((sum, x) => sum + x, 0) / logs.length
  const variance = logs.reduce((sum, x) => sum + (x - mean) ** 2, 0) / (logs.length - 1)
  const halfWidth = 1.96 * Math.sqrt(variance / logs.length)
  return `mean **${Math.exp(mean).toFixed(3)}x** (95% interval ${Math.exp(mean - halfWidth).toFixed(3)} to ${Math.exp(mean + halfWidth).toFixed(3)}); median ${median(sorted).toFixed(3)}x, middle half ${sorted[quarter]!.toFixed(2)} to ${sorted[sorted.length - 1 - quarter]!.toFixed(2)}; ${sorted.length} pairs`
}

export const observeOverhead: Bench = {
  name: 'observe-overhead',
  description: `The cost of the web UI and metrics: the direct stream word count over ${(partitions * perPartition).toLocaleString('en')} lines in ${partitions} partitions, in ${interval} ms batches of at most ${((maxRatePerPartition * interval) / 1000).toLocaleString('en')} lines per partition (many small batches, each slower than the interval, so per-batch costs show). Inside each job process the UI and metrics are switched on and off every ${segmentBatches} batches; while on, another process watches them as an open Streaming page and a Prometheus server would (it follows /api/events, fetches the page's four documents on changes at most every 400 ms, and scrapes /metrics every 5 s). ${idleOff ? 'While off, the watcher is idle.' : 'While off, the watcher follows a stand-in UI in its own process that replays a batch of the job, so the machine is as loaded in every segment and only where the UI runs differs.'} ${switchingRuns} such processes, half starting with the UI on, and ${controlRuns} control processes that alternate the same way with the job's UI always off. The job has a core to itself (taskset).`,
  async run({ client, brokers }) {
    const topic = `bench-observe-${Date.now()}`
    await client.createTopics([{ name: topic, partitions }])
    try {
      await fillWithLines(client, topic, partitions, perPartition)
      const file = join(import.meta.dirname, 'cases', 'observe-alternating.ts')
      const pinned = onOneCore(nodeCase(file, []), jobCore) !== undefined
      const runJob = (first: 'on' | 'off', control = false) => {
        const args = [
          brokers.join(','),
          topic,
          String(partitions),
          String(perPartition),
          String(interval),
          String(maxRatePerPartition),
          String(segmentBatches),
          first,
          ...(control ? ['control'] : []),
          ...(pinned ? [`--watcher-core=${watcherCore}`] : []),
          ...(idleOff ? ['--idle-off'] : []),
        ]
        return runProcessCase(onOneCore(nodeCase(file, args), jobCore) ?? nodeCase(file, args))
      }
      const switching: CaseResult[] = []
      const control: CaseResult[] = []
      for (let i = 0; i < switchingRuns; i++) {
        switching.push(await runJob(i % 2 === 0 ? 'on' : 'off'))
        if (i % 2 === 0) {
          control.push(await runJob(control.length % 2 === 0 ? 'on' : 'off', true))
        }
      }
      const on = totals(switching, true)
      const off = totals(switching, false)
      const spells = switching.flatMap((run) => run.extra?.watched as WatchedSpell[])
      const watching = (whose: WatchedSpell['watched']) => {
        const mine = spells.filter((spell) => spell.watched === whose)
        const requests = mine.reduce((sum, spell) => sum + spell.requests, 0)
        const cpuMs = mine.reduce((sum, spell) => sum + spell.cpuMs, 0)
        return `${requests.toLocaleString('en')} requests, ${cpuMs.toLocaleString('en')} ms of CPU`
      }
      const rate = (t: { records: number; ms: number }) => (t.records / t.ms) * 1000
      const perCpu = (t: { records: number; cpuMs: number }) => (t.records / t.cpuMs) * 1000
      return [
        '| segments | records | ms | records/s | records per CPU-second |',
        '|---|---:|---:|---:|---:|',
        ...(
          [
            ['UI and metrics on', on],
            ['off', off],
          ] as const
        ).map(
          ([name, t]) =>
            `| ${name} | ${t.records.toLocaleString('en')} | ${Math.round(t.ms)} | ${Math.round(rate(t)).toLocaleString('en')} | ${Math.round(perCpu(t)).toLocaleString('en')} |`,
        ),
        '',
        `records/s with the UI and metrics on / off, over all segments: **${ratio(rate(on), rate(off))}x** (aim: 0.98x or better); records per CPU-second: ${ratio(perCpu(on), perCpu(off))}x`,
        `records/s on / off of neighbouring segments: ${spread(pairRatios(switching))}`,
        `control, the UI off in every segment, "on" / "off" segments: **${ratio(rate(totals(control, true)), rate(totals(control, false)))}x** over all; neighbours: ${spread(pairRatios(control))}`,
        `the watcher, with the job's UI on: ${watching('job')} over ${(on.ms / 1000).toFixed(1)} s (the job used ${Math.round(on.cpuMs).toLocaleString('en')} ms); ${idleOff ? 'idle with it off' : `with it off, watching the stand-in UI: ${watching('stand-in')}, the stand-in's own work included`}`,
        pinned
          ? `the job ran on core ${jobCore} (taskset), the watcher on core ${watcherCore}, the broker where the scheduler put it`
          : 'taskset is missing: every process ran on every core, and the segments vary more.',
      ]
    } finally {
      await client.deleteTopics([topic])
    }
  },
}
