// `npm run demo`: the word count job (examples/wordcount.ts) on a local broker. It writes
// generated text to a fresh topic, counts it with a direct stream into an embedded SQLite
// file, checks the totals against the text it wrote, and prints the top words.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { createLogger } from 'sluice'
import { KafkaClient } from 'sluice/admin'
import { defineWordCount, wordTotals } from '../examples/wordcount.ts'
import { startLocalKafka } from '../src/local-kafka/broker.ts'

const logger = createLogger({ level: 'warn' })
const partitions = 4
const lineCount = 200_000

const words = (
  'the quick brown fox jumps over lazy dog stream batch offset range kafka partition leader ' +
  'record exactly once checkpoint replay driver window state sink commit rate backpressure'
).split(' ')

/** Deterministic text, so every run of the demo counts the same words. */
function* generatedLines(count: number): Generator<string> {
  let seed = 7
  const next = () => {
    seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff
    return seed
  }
  for (let i = 0; i < count; i++) {
    yield Array.from({ length: 3 + (next() % 6) }, () => words[next() % words.length]).join(' ')
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
  console.log(
    `wrote ${lineCount.toLocaleString('en')} lines (${totalWords.toLocaleString('en')} words) to ${topic}`,
  )

  const { ssc, db } = defineWordCount({
    brokers,
    topic,
    checkpoint: join(work, 'checkpoint'),
    database,
    batchInterval: 500,
    maxRatePerPartition: 40_000, // at most 20,000 lines per partition per batch: several batches
    logger,
  })
  ssc.addListener({
    onBatchCompleted: (info) => {
      const ranges = info.offsetRanges.filter((r) => !r.isEmpty).map(String)
      console.log(
        `batch ${info.id}: ${info.records.toLocaleString('en')} records in ${info.processingTime} ms` +
          (ranges.length > 0 ? ` — ${ranges.join(', ')}` : ''),
      )
    },
  })
  await ssc.start()
  const counted = () => [...wordTotals(db).values()].reduce((a, b) => a + b, 0)
  while (counted() < totalWords) await sleep(100)
  await ssc.stop({ graceful: true })

  const totals = wordTotals(db)
  const exact = totals.size === expected.size && [...expected].every(([word, n]) => totals.get(word) === n)
  console.log('\ntop words:')
  for (const [word, count] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, 10)) {
    console.log(`  ${word.padEnd(12)} ${count.toLocaleString('en')}`)
  }
  console.log(
    `\ncounts in ${database} ${exact ? 'match' : 'DO NOT match'} the text written: ${exact ? 'exactly once' : 'FAILED'}`,
  )
  db.close()
  if (!exact) process.exitCode = 1
} finally {
  await client.deleteTopics([topic]).catch(() => {})
  await client.close()
  rmSync(work, { recursive: true, force: true })
  await stopBroker()
}
