import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { Bench } from './registry.ts'

const rate = 10_000
const partitions = 4
const intervals = [1000, 500, 200, 100, 50, 25]
const batches = 30

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

export const streamInterval: Bench = {
  name: 'stream-interval',
  description: `Minimum batch interval: a producer process writes ${rate.toLocaleString('en')} records/s (100 bytes, ${partitions} partitions) while a direct stream reads every record; for each interval, ${batches} batches after a warm-up. An interval keeps up when the 95th percentile scheduling delay is under 10% of the interval.`,
  async run({ client, brokers, runCase }) {
    const topic = `bench-interval-${Date.now()}`
    await client.createTopics([{ name: topic, partitions }])
    const producer = spawn(
      process.execPath,
      [
        join(import.meta.dirname, 'cases', 'steady-producer.ts'),
        brokers.join(','),
        topic,
        String(rate),
        String(partitions),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    try {
      for await (const line of createInterface({ input: producer.stdout! })) if (line === 'producing') break
      const rows = [
        '| interval ms | p50 delay ms | p95 delay ms | max delay ms | p95 processing ms | records/s read | keeps up |',
        '|---:|---:|---:|---:|---:|---:|:---:|',
      ]
      let smallest: number | undefined
      for (const interval of intervals) {
        const result = await runCase(join(import.meta.dirname, 'cases', 'stream-interval.ts'), [
          brokers.join(','),
          topic,
          String(interval),
          String(batches),
        ])
        const delays = result.extra!.delays as number[]
        const processing = result.extra!.processing as number[]
        const p95 = percentile(delays, 95)
        const ok = p95 < interval / 10
        if (ok) smallest = interval
        rows.push(
          `| ${interval} | ${percentile(delays, 50)} | ${p95} | ${Math.max(...delays)} | ${percentile(processing, 95)} | ${Math.round(result.records / ((batches * interval) / 1000)).toLocaleString('en')} | ${ok ? 'yes' : 'no'} |`,
        )
      }
      return [
        ...rows,
        '',
        `smallest interval that keeps up with ${rate.toLocaleString('en')} records/s: **${smallest === undefined ? 'none' : `${smallest} ms`}** (aim: 100 ms or less)`,
      ]
    } finally {
      producer.kill('SIGKILL')
      await client.deleteTopics([topic])
    }
  },
}
