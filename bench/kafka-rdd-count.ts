import { join } from 'node:path'
import { fillTopic } from './env.ts'
import type { Bench } from './registry.ts'
import { ratio, summarize, table } from './stats.ts'

const partitions = 8
const perPartition = 250_000
const repeats = 3

export const kafkaRddCount: Bench = {
  name: 'kafka-rdd-count',
  description: `createRDD(...).map(() => 1).reduce(+) over ${(partitions * perPartition).toLocaleString('en')} records of 100 bytes in ${partitions} partitions, against a plain @platformatic/kafka fetch loop over the same ranges. Median of ${repeats} runs each, alternating; each run in its own process.`,
  async run({ client, brokers, runCase }) {
    const topic = `bench-count-${Date.now()}`
    await client.createTopics([{ name: topic, partitions }])
    try {
      await fillTopic(client, topic, partitions, perPartition)
      const args = [brokers.join(','), topic, String(partitions), String(perPartition)]
      const cases = {
        sluice: [] as Awaited<ReturnType<typeof runCase>>[],
        raw: [] as Awaited<ReturnType<typeof runCase>>[],
      }
      for (let i = 0; i < repeats; i++) {
        cases.raw.push(await runCase(join(import.meta.dirname, 'cases', 'raw-fetch-loop.ts'), args))
        cases.sluice.push(await runCase(join(import.meta.dirname, 'cases', 'sluice-count.ts'), args))
      }
      const sluice = summarize(cases.sluice)
      const raw = summarize(cases.raw)
      for (const s of [sluice, raw]) {
        if (s.records !== partitions * perPartition) throw new Error(`${s.name} read ${s.records} records`)
      }
      return [
        ...table([sluice, raw]),
        '',
        `throughput ratio sluice / raw loop: **${ratio(sluice.recordsPerSecond, raw.recordsPerSecond)}x** (aim: 0.9x or better)`,
        `peak RSS ratio sluice / raw loop: ${ratio(sluice.peakRssMb, raw.peakRssMb)}x`,
      ]
    } finally {
      await client.deleteTopics([topic])
    }
  },
}
