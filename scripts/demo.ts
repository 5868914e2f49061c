// `npm run demo`: the word count job (examples/wordcount.ts) on a local broker, with its web
// UI on. It writes generated text to a fresh topic, counts it with a direct stream into an
// embedded SQLite file (a line per batch), checks the totals against the text it wrote and
// against a batch job (createRDD) over the ranges the stream committed, and prints the top
// words.
//
//   npm run demo -- --keep        keeps the job running, with a producer writing more text, and
//                                 its UI open, until Ctrl-C
//   npm run demo -- --port 8080   serves the UI on another port (default 4040; 0: any free one)
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { type BatchInfo, createLogger, createProgressBar, createRDD, OffsetRange } from 'sluice'
import { KafkaClient } from 'sluice/admin'
import { wordsOf } from '../examples/word-count-job.ts'
import { defineWordCount, wordTotals } from '../examples/wordcount.ts'
import { startLocalKafka } from '../src/local-kafka/broker.ts'

const { values: flags } = parseArgs({
  options: { keep: { type: 'boolean', default: false }, port: { type: 'string' } },
})
const keep = flags.keep
const logger = createLogger({ level: 'warn' })
const partitions = 4
const lineCount = 200_000
const integer = (n: number) => n.toLocaleString('en')

const words = (
  'the quick brown fox jumps over lazy dog stream batch offset range kafka partition leader ' +
  'record exactly once checkpoint replay driver window state sink commit rate backpressure'
).split(' ')

/** Deterministic text, so every run of the demo counts the same words. */
function* generatedLines(count: number, seed = 7): Generator<string> {
  let state = seed
  const next = () => {
    state = (state * 1_103_515_245 + 12_345) & 0x7fffffff
    return state
  }
  for (let i = 0; i < count; i++) {
    yield Array.from({ length: 3 + (next() % 6) }, () => words[next() % words.length]).join(' ')
  }
}

/** Spark's port, unless something already listens there: then any free one. */
async function uiPort(): Promise<number> {
  if (flags.port !== undefined) return Number(flags.port)
  const probe = createServer()
  const free = await new Promise<boolean>((resolve) => {
    probe.once('error', () => resolve(false))
    probe.listen(4040, '127.0.0.1', () => probe.close(() => resolve(true)))
  })
  return free ? 4040 : 0
}

function describeBatch(info: BatchInfo): string {
  const { progress } = info
  const lag = progress.sources
    .flatMap((s) => s.partitions)
    .reduce((sum, p) => (p.lag === null ? sum : sum + BigInt(p.lag)), 0n)
  const limit = progress.sources[0]?.rateLimit
  return (
    `batch ${info.id}: ${integer(info.records)} records in ${integer(progress.processingTimeMs)} ms` +
    ` (scheduling delay ${integer(progress.schedulingDelayMs)} ms), lag ${integer(Number(lag))}` +
    (limit === null || limit === undefined ? '' : `, rate limit ${integer(Math.round(limit))}/s`)
  )
}

/** Writes more lines, in waves, until stopped: something for the UI to show. */
function keepProducing(client: KafkaClient, topic: string) {
  let stopped = false
  const running = (async () => {
    const lines = generatedLines(Number.MAX_SAFE_INTEGER, 11)
    for (let tick = 0; !stopped; tick++) {
      const count = Math.round(1500 + 1200 * Math.sin(tick / 40))
      const records = []
      for (let i = 0; i < count; i++)
        records.push({ topic, partition: (tick + i) % partitions, value: lines.next().value! })
      await client.produce(records)
      await sleep(250)
    }
  })()
  return async () => {
    stopped = true
    await running
  }
}

/**
 * Counts the words of exactly the ranges the stream committed, with a batch job over Kafka
 * (drawing a progress bar on a terminal), and compares them with what the stream wrote.
 */
async function batchJobAgrees(
  brokers: readonly string[],
  ranges: readonly OffsetRange[],
  totals: ReadonlyMap<string, number>,
): Promise<boolean> {
  const bar = createProgressBar('batch job recount')
  try {
    const counted = await createRDD<string, string>(
      { brokers: [...brokers], deserializers: { value: 'string' }, logger },
      [...ranges],
    )
      .flatMap((record) => wordsOf(record.value))
      .map((word): [string, number] => [word, 1])
      .reduceByKey((a, b) => a + b)
      .collect({ onProgress: bar.update })
    bar.done()
    return counted.length === totals.size && counted.every(([word, n]) => totals.get(word) === n)
  } catch (error) {
    bar.done()
    throw error
  }
}

let stopBroker = async () => {}
let brokers = process.env.KAFKA_BOOTSTRAP?.split(',')
if (!brokers) {
  console.log('starting a local Kafka broker (first run resolves Apache Kafka from Maven Central)...')
  const { kafka, alreadyRunning } = await startLocalKafka({ dir: '.sluice/kafka', logger })
  brokers = [kafka.bootstrap]
  if (!alreadyRunning) stopBroker = () => kafka.stop()
  console.log(`broker: ${kafka.bootstrap}${alreadyRunning ? ' (already running)' : ''}`)
}

const client = new KafkaClient({ brokers, logger })
const topic = `sluice-demo-${Date.now().toString(36)}`
const work = mkdtempSync(join(tmpdir(), 'sluice-demo-'))
mkdirSync('.sluice', { recursive: true })
const database = join('.sluice', `${topic}.db`)
try {
  await client.createTopics([{ name: topic, partitions }])
  const expected = new Map<string, number>()
  const lines = [...generatedLines(lineCount)]
  for (const line of lines)
    for (const word of line.split(' ')) expected.set(word, (expected.get(word) ?? 0) + 1)
  const totalWords = [...expected.values()].reduce((a, b) => a + b, 0)
  for (let i = 0; i < lines.length; i += 20_000) {
    await client.produce(
      lines.slice(i, i + 20_000).map((value, j) => ({ topic, partition: (i + j) % partitions, value })),
    )
  }
  console.log(`wrote ${integer(lineCount)} lines (${integer(totalWords)} words) to ${topic}`)

  const { ssc, db } = defineWordCount({
    brokers,
    topic,
    checkpoint: join(work, 'checkpoint'),
    database,
    batchInterval: 500,
    maxRatePerPartition: 40_000, // at most 20,000 lines per partition per batch: several batches
    ui: { port: await uiPort() },
    logger,
  })
  let last: BatchInfo | undefined
  ssc.addListener({
    onBatchCompleted: (info) => {
      last = info
      if (info.records > 0) console.log(describeBatch(info))
    },
  })
  await ssc.start()
  console.log(`web UI: ${ssc.uiUrl}  (Prometheus metrics at ${ssc.uiUrl}metrics)`)
  const counted = () => [...wordTotals(db).values()].reduce((a, b) => a + b, 0)
  while (counted() < totalWords && ssc.state === 'active') await sleep(100)

  let exact = true
  if (keep) {
    const stopProducing = keepProducing(client, topic)
    console.log(
      `\nthe backlog is counted; the job keeps running, with a producer writing more lines.\n` +
        `watch it at ${ssc.uiUrl} — Ctrl-C stops it (gracefully; twice to force).\n`,
    )
    process.once('SIGINT', () => void stopProducing())
    await ssc.awaitTermination()
    await stopProducing()
  } else {
    await ssc.stop({ graceful: true })
    const totals = wordTotals(db)
    exact = totals.size === expected.size && [...expected].every(([word, n]) => totals.get(word) === n)
    console.log(`\ncounts in ${database} ${exact ? 'match' : 'DO NOT match'} the text written`)
  }
  const totals = wordTotals(db)
  const committed = (last?.offsetRanges ?? []).map((r) =>
    OffsetRange.create(r.topic, r.partition, 0n, r.untilOffset),
  )
  const agrees = await batchJobAgrees(brokers, committed, totals)
  console.log(
    `a batch job over the committed ranges (${committed.map(String).join(', ')}) ${agrees ? 'agrees' : 'DOES NOT agree'}: ${agrees && exact ? 'exactly once' : 'FAILED'}`,
  )
  console.log('\ntop words:')
  for (const [word, count] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, 10)) {
    console.log(`  ${word.padEnd(12)} ${integer(count)}`)
  }
  db.close()
  if (!exact || !agrees) process.exitCode = 1
} finally {
  await client.deleteTopics([topic]).catch(() => {})
  await client.close()
  rmSync(work, { recursive: true, force: true })
  await stopBroker()
}
