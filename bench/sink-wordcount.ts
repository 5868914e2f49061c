import { join } from 'node:path'
import { createLogger } from '../src/core/logger.ts'
import type { KafkaClient } from '../src/kafka/client.ts'
import { type LocalPostgres, startLocalPostgres } from '../src/local-postgres/server.ts'
import type { CaseResult } from './env.ts'
import type { Bench } from './registry.ts'
import { batchIntervalMs, maxRatePerPartition } from './sink-wordcount-settings.ts'
import { median, ratio, summarize } from './stats.ts'

const partitions = 8
const perPartition = 250_000
const repeats = 3
const vocabulary = 10_000

/** Deterministic lines of 3 to 8 words; word ranks are skewed (rank ~ n·u²) like real text. */
export function* linesOf(partition: number, count: number): Generator<string> {
  let state = 1 + partition
  const next = (n: number) => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) & 0x7fffffff
    return (state >>> 8) % n
  }
  for (let i = 0; i < count; i++) {
    const words: string[] = []
    for (let w = 3 + next(6); w > 0; w--) {
      const u = next(1 << 16) / (1 << 16)
      words.push(`w${Math.floor(vocabulary * u * u).toString(36)}`)
    }
    yield words.join(' ')
  }
}

/** Fills each of `count` partitions with `lines` lines of `linesOf`; returns how many words they hold. */
export async function fillWithLines(
  client: KafkaClient,
  topic: string,
  count = partitions,
  lines = perPartition,
): Promise<number> {
  const perSend = 5000
  let words = 0
  await Promise.all(
    Array.from({ length: count }, async (_, partition) => {
      let batch: { topic: string; partition: number; value: string }[] = []
      for (const value of linesOf(partition, lines)) {
        words += value.split(' ').length
        batch.push({ topic, partition, value })
        if (batch.length === perSend) {
          await client.produce(batch)
          batch = []
        }
      }
      if (batch.length > 0) await client.produce(batch)
    }),
  )
  return words
}

/**
 * A durable PostgreSQL, like the SQLite sink's (synchronous=FULL): the test server's
 * fsync=off would flatter it. PG_URL points the bench at an existing server instead.
 */
export async function durablePostgres(): Promise<{ url: string; server?: LocalPostgres }> {
  if (process.env.PG_URL) return { url: process.env.PG_URL }
  const server = await startLocalPostgres({
    settings: { fsync: 'on', full_page_writes: 'on', synchronous_commit: 'on' },
    logger: createLogger({ level: 'warn' }),
  })
  return { url: server.url, server }
}

export const sinkWordCount: Bench = {
  name: 'sink-wordcount',
  description:
    `Word count stream over ${(partitions * perPartition).toLocaleString('en')} records (lines of 3-8 words, ` +
    `${vocabulary.toLocaleString('en')}-word vocabulary) in ${partitions} partitions, ${batchIntervalMs} ms batches of at ` +
    `most ${((partitions * maxRatePerPartition * batchIntervalMs) / 1000).toLocaleString('en')} records, no checkpoint. ` +
    'Outputs: the counts collected and dropped (no-op), or upserted (count added) through the exactly-once SQL sink ' +
    'into SQLite (WAL, synchronous=FULL) or PostgreSQL (fsync on), one transaction per batch with the offsets. ' +
    `End to end = ssc.start() to the commit of the batch holding the last record. Median of ${repeats} runs each, ` +
    'alternating; each run in its own process.',
  async run({ client, brokers, runCase }) {
    const topic = `bench-wordcount-${Date.now()}`
    await client.createTopics([{ name: topic, partitions }])
    const { url, server } = await durablePostgres()
    try {
      await fillWithLines(client, topic)
      const file = join(import.meta.dirname, 'cases', 'sink-wordcount.ts')
      const args = [brokers.join(','), topic, String(partitions), String(perPartition)]
      const outputs = ['noop', 'sqlite', 'postgres'] as const
      const runs = { noop: [] as CaseResult[], sqlite: [] as CaseResult[], postgres: [] as CaseResult[] }
      for (let i = 0; i < repeats; i++) {
        for (const output of outputs) runs[output].push(await runCase(file, [...args, output, url]))
      }
      for (const output of outputs) {
        for (const r of runs[output]) {
          if (r.records !== partitions * perPartition) throw new Error(`${r.name} read ${r.records} records`)
        }
      }
      const noop = summarize(runs.noop)
      const share = (results: CaseResult[]) =>
        median(results.map((r) => Number(r.extra?.sinkMs) / Number(r.extra?.batchMs)))
      const row = (output: (typeof outputs)[number]) => {
        const s = summarize(runs[output])
        const sinkShare = output === 'noop' ? '—' : `${(share(runs[output]) * 100).toFixed(1)}%`
        return `| ${s.name} | ${s.records.toLocaleString('en')} | ${Math.round(s.medianMs)} | ${s.recordsPerSecond.toLocaleString('en')} | ${ratio(s.recordsPerSecond, noop.recordsPerSecond)}x | ${sinkShare} | ${s.peakRssMb} |`
      }
      const sqlite = summarize(runs.sqlite)
      const postgres = summarize(runs.postgres)
      return [
        '| output | records | median ms | records/s | vs no-op | sink share of batch time | peak RSS MB |',
        '|---|---:|---:|---:|---:|---:|---:|',
        ...outputs.map(row),
        '',
        `throughput ratio SQLite sink / no-op output: **${ratio(sqlite.recordsPerSecond, noop.recordsPerSecond)}x**`,
        `throughput ratio PostgreSQL sink / no-op output: **${ratio(postgres.recordsPerSecond, noop.recordsPerSecond)}x**`,
        `sink share of the batch processing time (median of per-run sums of writeBatch / processingTime): SQLite ${(share(runs.sqlite) * 100).toFixed(1)}%, PostgreSQL ${(share(runs.postgres) * 100).toFixed(1)}%`,
        `batches with records per run: ${runs.noop[0]!.extra?.batches}`,
      ]
    } finally {
      await client.deleteTopics([topic])
      await server?.stop()
    }
  },
}
