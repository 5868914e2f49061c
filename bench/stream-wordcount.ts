import { join } from 'node:path'
import type { CaseResult } from './env.ts'
import type { Bench } from './registry.ts'
import { ratio, summarize, table } from './stats.ts'
import { fillWithLines } from './text.ts'

const partitions = 8
const perPartition = 250_000
const repeats = 3

export const streamWordCount: Bench = {
  name: 'stream-wordcount',
  description: `A direct stream word count (1 s batches, no rate limit) over a backlog of ${(partitions * perPartition).toLocaleString('en')} lines of 6-12 words in ${partitions} partitions, against the raw @platformatic/kafka fetch loop (counting records only, the ceiling) and the same loop counting words in a Map. Median of ${repeats} runs each, alternating.`,
  async run({ client, brokers, runCase }) {
    const topic = `bench-wc-${Date.now()}`
    await client.createTopics([{ name: topic, partitions }])
    try {
      await fillWithLines(client, topic, partitions, perPartition)
      const args = [brokers.join(','), topic, String(partitions), String(perPartition)]
      const runs: Record<'stream' | 'raw' | 'rawWc', CaseResult[]> = { stream: [], raw: [], rawWc: [] }
      const file = (name: string) => join(import.meta.dirname, 'cases', name)
      for (let i = 0; i < repeats; i++) {
        runs.raw.push(await runCase(file('raw-fetch-loop.ts'), args))
        runs.rawWc.push(await runCase(file('raw-wordcount-loop.ts'), args))
        runs.stream.push(await runCase(file('stream-wordcount.ts'), [...args, '1000']))
      }
      const stream = summarize(runs.stream)
      const raw = summarize(runs.raw)
      const rawWc = summarize(runs.rawWc)
      return [
        ...table([stream, rawWc, raw]),
        '',
        `word count throughput, sluice stream / hand-written loop: **${ratio(stream.recordsPerSecond, rawWc.recordsPerSecond)}x**`,
        `sluice stream word count / raw record-counting loop (the read ceiling): ${ratio(stream.recordsPerSecond, raw.recordsPerSecond)}x`,
        `peak RSS, sluice stream / hand-written loop: ${ratio(stream.peakRssMb, rawWc.peakRssMb)}x`,
      ]
    } finally {
      await client.deleteTopics([topic])
    }
  },
}
