import { join } from 'node:path'
import { type CaseCommand, nodeCase, onOneCore, runProcessCase } from './case-process.ts'
import type { CaseResult } from './env.ts'
import { javaWordCount } from './java-peer.ts'
import type { Bench } from './registry.ts'
import { median, ratio, type Summary, summarize, table } from './stats.ts'
import { fillWithLines } from './text.ts'

const partitions = 4
const perPartition = 500_000
const repeats = 3

type Peer = 'sluice' | 'sluiceNoCrc' | 'java' | 'rawWc' | 'raw' | 'sluiceAllCores' | 'javaAllCores'

export const streamWordCount: Bench = {
  name: 'stream-wordcount',
  description: `A direct stream word count (flatMap split, map to pairs, reduceByKey, collect; 1 s batches, no rate limit) over a backlog of ${(partitions * perPartition).toLocaleString('en')} lines of 6-12 words in ${partitions} partitions, against a Java KafkaConsumer poll loop counting words in a HashMap (bench/java/WordCountLoop.java), the same loop written on @platformatic/kafka's fetch, and that fetch loop counting records only (the read ceiling). Every process runs on one core (taskset -c 0; the Java loop is single-threaded), and sluice and Java once more on every core. Records/s are steady state: from each process's first record to its last, so startup is reported apart. Median of ${repeats} interleaved runs each; peak RSS is the worst run.`,
  async run({ client, brokers, logger }) {
    const topic = `bench-wc-${Date.now()}`
    await client.createTopics([{ name: topic, partitions }])
    try {
      await fillWithLines(client, topic, partitions, perPartition)
      const args = [brokers.join(','), topic, String(partitions), String(perPartition)]
      const java = await javaWordCount(logger)
      const file = (name: string) => join(import.meta.dirname, 'cases', name)
      const commands: Record<Peer, CaseCommand> = {
        java: java(args),
        sluice: nodeCase(file('stream-wordcount.ts'), [...args, '1000']),
        sluiceNoCrc: nodeCase(file('stream-wordcount.ts'), [...args, '1000', '--check-crcs=false']),
        rawWc: nodeCase(file('raw-wordcount-loop.ts'), args),
        raw: nodeCase(file('raw-fetch-loop.ts'), args),
        sluiceAllCores: nodeCase(file('stream-wordcount.ts'), [...args, '1000']),
        javaAllCores: java(args),
      }
      const pinned = onOneCore(commands.java) !== undefined
      const runs = Object.fromEntries(Object.keys(commands).map((peer) => [peer, []])) as unknown as Record<
        Peer,
        CaseResult[]
      >
      for (let i = 0; i < repeats; i++) {
        for (const [peer, command] of Object.entries(commands) as [Peer, CaseCommand][]) {
          const allCores = peer.endsWith('AllCores')
          const result = await runProcessCase(allCores ? command : (onOneCore(command) ?? command))
          if (result.records !== partitions * perPartition) {
            throw new Error(`${result.name} read ${result.records} records, not ${partitions * perPartition}`)
          }
          runs[peer].push(result)
        }
      }
      const distinct = new Set(
        Object.values(runs).flatMap((results) => results.flatMap((r) => r.extra?.distinct ?? [])),
      )
      if (distinct.size !== 1)
        throw new Error(`the peers counted different numbers of words: ${[...distinct]}`)
      const s = Object.fromEntries(
        Object.entries(runs).map(([peer, results]) => [peer, summarize(results)]),
      ) as Record<Peer, Summary>
      const named = (summary: Summary, suffix: string): Summary => ({
        ...summary,
        name: `${summary.name}${suffix}`,
      })
      const core = pinned ? ', one core' : ''
      const startup = (peer: Peer) => Math.round(median(runs[peer].map((r) => Number(r.extra?.startupMs))))
      // Records per CPU-second of the whole process: less disturbed than wall time when other
      // work shares the machine (the benchmark's own broker included).
      const perCpuSecond = (peer: Peer) =>
        median(runs[peer].map((r) => (r.records / Number(r.extra?.cpuMs)) * 1000))
      return [
        ...table([
          named(s.sluice, core),
          named(s.sluiceNoCrc, core),
          named(s.java, core),
          named(s.rawWc, core),
          named(s.raw, core),
          named(s.sluiceAllCores, ', all cores'),
          named(s.javaAllCores, ', all cores'),
        ]),
        '',
        ...(pinned ? [] : ['taskset is missing: every process ran on every core.']),
        `sluice / Java loop${core}: **${ratio(s.sluice.recordsPerSecond, s.java.recordsPerSecond)}x** steady records/s, peak RSS **${ratio(s.sluice.peakRssMb, s.java.peakRssMb)}x** (aim: at least 1.0x, and at most 1.0x)`,
        `records per CPU-second (all threads of the process), sluice / Java loop${core}: ${ratio(perCpuSecond('sluice'), perCpuSecond('java'))}x (${Math.round(perCpuSecond('sluice')).toLocaleString('en')} / ${Math.round(perCpuSecond('java')).toLocaleString('en')})`,
        `sluice / Java loop, all cores: ${ratio(s.sluiceAllCores.recordsPerSecond, s.javaAllCores.recordsPerSecond)}x records/s, peak RSS ${ratio(s.sluiceAllCores.peakRssMb, s.javaAllCores.peakRssMb)}x`,
        `record batch checksums, sluice checkCrcs on / off: ${ratio(s.sluice.recordsPerSecond, s.sluiceNoCrc.recordsPerSecond)}x records/s, ${ratio(perCpuSecond('sluice'), perCpuSecond('sluiceNoCrc'))}x records per CPU-second`,
        `sluice / hand-written @platformatic/kafka loop + Map: ${ratio(s.sluice.recordsPerSecond, s.rawWc.recordsPerSecond)}x; sluice / that loop counting records only (the read ceiling): ${ratio(s.sluice.recordsPerSecond, s.raw.recordsPerSecond)}x`,
        `startup to the first record (median): sluice ${startup('sluice')} ms, Java ${startup('java')} ms, raw loop ${startup('rawWc')} ms`,
      ]
    } finally {
      await client.deleteTopics([topic])
    }
  },
}
