import { join } from 'node:path'
import type { KafkaClient } from '../src/kafka/client.ts'
import type { CaseResult } from './env.ts'
import type { Bench, BenchContext } from './registry.ts'
import { ratio, summarize, table } from './stats.ts'

const stateCase = join(import.meta.dirname, 'cases', 'state-stream.ts')

/** Fills `partitions` partitions with `perPartition` keyed records; record g (over all partitions) has key `k<g % keys>`. */
async function fillKeyed(
  client: KafkaClient,
  topic: string,
  partitions: number,
  perPartition: number,
  keys: number,
): Promise<void> {
  const value = Buffer.from('1')
  const perSend = 5000
  await Promise.all(
    Array.from({ length: partitions }, async (_, partition) => {
      for (let sent = 0; sent < perPartition; sent += perSend) {
        const n = Math.min(perSend, perPartition - sent)
        await client.produce(
          Array.from({ length: n }, (_, i) => ({
            topic,
            partition,
            key: Buffer.from(`k${(partition + (sent + i) * partitions) % keys}`),
            value,
          })),
        )
      }
    }),
  )
}

async function withTopic<T>(
  client: KafkaClient,
  name: string,
  partitions: number,
  run: (topic: string) => Promise<T>,
): Promise<T> {
  const topic = `bench-${name}-${Date.now()}`
  await client.createTopics([{ name: topic, partitions }])
  try {
    return await run(topic)
  } finally {
    await client.deleteTopics([topic])
  }
}

/** Runs the modes alternately, `repeats` times each, every run in its own process. */
async function runModes(
  context: BenchContext,
  args: readonly string[],
  modes: readonly string[],
  extra: readonly string[],
  repeats: number,
): Promise<Record<string, CaseResult[]>> {
  const results: Record<string, CaseResult[]> = Object.fromEntries(modes.map((mode) => [mode, []]))
  for (let i = 0; i < repeats; i++) {
    for (const mode of modes) results[mode]!.push(await context.runCase(stateCase, [...args, mode, ...extra]))
  }
  return results
}

const medianOf = (results: readonly CaseResult[], field: string): number => {
  const values = results.map((r) => Number(r.extra?.[field])).sort((a, b) => a - b)
  return values[Math.floor(values.length / 2)]!
}

const statePartitions = 8
const statePerPartition = 250_000
const stateKeys = 1_000_000

export const stateUpdateBench: Bench = {
  name: 'state-1m-keys',
  description: `updateStateByKey (a count per key, snapshotted every 10 batches) over ${(statePartitions * statePerPartition).toLocaleString('en')} records with ${stateKeys.toLocaleString('en')} distinct keys (each key twice), 200,000 records per batch, against the same per-batch shuffle without state (reduceByKey + count). Median of 3 runs each, alternating; each run in its own process.`,
  async run(context) {
    return withTopic(context.client, 'state', statePartitions, async (topic) => {
      await fillKeyed(context.client, topic, statePartitions, statePerPartition, stateKeys)
      const args = [context.brokers.join(','), topic, String(statePartitions), String(statePerPartition)]
      const results = await runModes(context, args, ['state', 'stateless'], ['25000'], 3)
      const state = summarize(results.state!)
      const stateless = summarize(results.stateless!)
      for (const s of [state, stateless]) {
        if (s.records !== statePartitions * statePerPartition)
          throw new Error(`${s.name} read ${s.records} records`)
      }
      const keys = medianOf(results.state!, 'stateKeys')
      if (keys !== stateKeys) throw new Error(`the state holds ${keys} keys, not ${stateKeys}`)
      return [
        ...table([state, stateless]),
        '',
        `state: ${keys.toLocaleString('en')} keys, BatchInfo.stateBytes ≈ ${medianOf(results.state!, 'stateMb')} MB; median batch ${medianOf(results.state!, 'medianBatchMs')} ms (stateless ${medianOf(results.stateless!, 'medianBatchMs')} ms)`,
        `throughput ratio updateStateByKey / stateless: **${ratio(state.recordsPerSecond, stateless.recordsPerSecond)}x**`,
        `peak RSS ratio updateStateByKey / stateless: ${ratio(state.peakRssMb, stateless.peakRssMb)}x (${state.peakRssMb - stateless.peakRssMb} MB more for ${keys.toLocaleString('en')} keys)`,
      ]
    })
  },
}

const windowPartitions = 8
const windowPerBatch = 2500
const windowBatches = 30
const windowDataBatches = 60
const windowKeys = 10_000

export const windowInverseBench: Bench = {
  name: 'window-inv',
  description: `reduceByKeyAndWindow over a ${windowBatches}-batch window sliding by one batch: with invFn (previous window − leaving batch + entering batch) against recomputing each window from its ${windowBatches} per-batch results, and the stateless per-batch reduce as a baseline. ${windowDataBatches} batches of ${(windowPartitions * windowPerBatch).toLocaleString('en')} records over ${windowKeys.toLocaleString('en')} keys; time per batch is the median over batches whose window is full. Median of 3 runs each, alternating; each run in its own process.`,
  async run(context) {
    return withTopic(context.client, 'window', windowPartitions, async (topic) => {
      const perPartition = windowPerBatch * windowDataBatches
      await fillKeyed(context.client, topic, windowPartitions, perPartition, windowKeys)
      const args = [context.brokers.join(','), topic, String(windowPartitions), String(perPartition)]
      const results = await runModes(
        context,
        args,
        ['window-inv', 'window', 'stateless'],
        [String(windowPerBatch), String(windowBatches)],
        3,
      )
      const inverse = medianOf(results['window-inv']!, 'medianBatchMs')
      const recompute = medianOf(results.window!, 'medianBatchMs')
      // Every batch also reads and reduces its own records: the stateless peer measures that part.
      const base = medianOf(results.stateless!, 'medianBatchMs')
      return [
        ...table([
          summarize(results['window-inv']!),
          summarize(results.window!),
          summarize(results.stateless!),
        ]),
        '',
        `median time per full-window batch: with invFn ${inverse} ms, recomputing ${recompute} ms; ` +
          `the batch's own read and reduce alone (stateless): ${base} ms`,
        `time per batch ratio recompute / invFn: **${ratio(recompute, inverse)}x**`,
        `window work beyond the batch's own read and reduce: invFn ${Math.max(0, inverse - base)} ms, ` +
          `recomputing ${Math.max(0, recompute - base)} ms`,
      ]
    })
  },
}
