import { join } from 'node:path'
import { fillTopic } from './env.ts'
import type { Bench } from './registry.ts'
import { ratio } from './stats.ts'

const partitions = 8
const backlogs = [1_000_000, 5_000_000]
const interval = 500
const maxRatePerPartition = 50_000

export const streamMemory: Bench = {
  name: 'stream-memory',
  description: `Bounded memory: a direct stream reads a backlog of ${backlogs.map((b) => b.toLocaleString('en')).join(' and ')} records (100 bytes, ${partitions} partitions) at maxRatePerPartition ${maxRatePerPartition.toLocaleString('en')}/s with ${interval} ms batches (${((maxRatePerPartition * partitions * interval) / 1000).toLocaleString('en')} records per batch), reading every record. Peak RSS per run, each in its own process.`,
  async run({ client, brokers, runCase }) {
    const rows: string[] = [
      '| backlog | batches | records read | seconds | peak RSS MB | max live heap MB |',
      '|---:|---:|---:|---:|---:|---:|',
    ]
    const peaks: number[] = []
    const lives: number[] = []
    for (const backlog of backlogs) {
      const topic = `bench-mem-${backlog}-${Date.now()}`
      await client.createTopics([{ name: topic, partitions }])
      try {
        await fillTopic(client, topic, partitions, backlog / partitions)
        const args = [
          brokers.join(','),
          topic,
          String(partitions),
          String(backlog / partitions),
          String(interval),
          String(maxRatePerPartition),
        ]
        const file = join(import.meta.dirname, 'cases', 'stream-bytes.ts')
        const result = await runCase(file, args)
        const live = await runCase(file, args, ['--expose-gc'])
        peaks.push(result.maxRssMb)
        lives.push(live.maxLiveHeapMb!)
        rows.push(
          `| ${backlog.toLocaleString('en')} | ${result.extra?.batches} | ${result.records.toLocaleString('en')} | ${(result.ms / 1000).toFixed(1)} | ${result.maxRssMb} | ${live.maxLiveHeapMb} |`,
        )
      } finally {
        await client.deleteTopics([topic])
      }
    }
    return [
      ...rows,
      '',
      `peak RSS, 5M backlog / 1M backlog: **${ratio(peaks[1]!, peaks[0]!)}x**; live heap (after full GC), 5M / 1M: **${ratio(lives[1]!, lives[0]!)}x** (aim: peak RSS under 300 MB, not growing with the backlog)`,
      'The live heap is what the stream keeps: one batch being read, two fetches per task. Peak RSS adds what V8 leaves uncollected between GCs, which depends on its heap sizing, not on the backlog.',
    ]
  },
}
