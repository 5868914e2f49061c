import { ErrorCodes, SluiceError } from '../core/errors.ts'
import { KafkaClient } from '../kafka/client.ts'
import { OffsetRange } from '../kafka/offset-range.ts'
import type { KafkaRecord } from '../kafka/records.ts'
import { TerminalProgressBar } from '../observe/progress-bar.ts'
import { createRDD } from '../source/create-rdd.ts'
import { cliLogger } from './cli-logger.ts'
import { defineCommand } from './command.ts'
import { booleanFlag, type FlagSpec, integerFlag, stringFlag, UsageError } from './flags.ts'

const boundFlag = (value: string, description: string): FlagSpec<Bound> => ({
  value,
  description,
  parse: (text) => {
    if (text === 'earliest' || text === 'latest') return text
    if (!/^\d+$/.test(text)) throw new UsageError("must be 'earliest', 'latest' or an offset")
    return BigInt(text)
  },
})

/** `sluice read`: a topic's records, or their exact count, through a batch job. */
export const readCommand = defineCommand({
  name: 'read',
  summary: "a topic's records as JSON lines, or their exact count",
  description:
    'Read the records of a topic (or one partition) from --from up to --until (the last stable offset by ' +
    'default) as a batch job (createRDD), and print one JSON line per record: ' +
    '{"partition","offset","timestamp","key","value"}, key and value as UTF-8 text. With --count, print how ' +
    'many records each partition holds in that range instead, by reading them: exact on compacted and ' +
    'transactional topics, where offsets overcount. A progress bar goes to stderr while it reads, when ' +
    'stderr is a terminal and the records are not printed to it.',
  positionals: [{ name: 'topic', description: 'the topic to read' }],
  flags: {
    brokers: stringFlag({ value: 'HOST:PORT[,...]', description: 'bootstrap brokers (required)' }),
    partition: integerFlag({ value: 'N', description: 'only this partition', min: 0, max: 2 ** 31 - 1 }),
    from: boundFlag('earliest|latest|OFFSET', 'first offset to read (default earliest)'),
    until: boundFlag('earliest|latest|OFFSET', 'offset to stop before (default latest)'),
    count: booleanFlag('print per-partition counts instead of the records'),
  },
  examples: [
    'sluice read words --brokers 127.0.0.1:9092 --count',
    'sluice read words --brokers 127.0.0.1:9092 --partition 0 --from 120 --until 130 > records.jsonl',
  ],
  async run({ flags, positionals, io }) {
    const topic = positionals[0]!
    if (flags.brokers === undefined) throw new UsageError("option '--brokers' is required")
    const logger = cliLogger()
    const client = new KafkaClient({ brokers: flags.brokers.split(','), logger })
    try {
      const ranges = await rangesToRead(
        client,
        topic,
        flags.partition,
        flags.from ?? 'earliest',
        flags.until ?? 'latest',
      )
      const rdd = createRDD<string, string>(
        { client, deserializers: { key: 'string', value: 'string' }, logger },
        ranges,
      )
      const bar = new TerminalProgressBar(`reading ${topic}`)
      // Records printed to the terminal would tear the bar's line: draw it only when they go elsewhere.
      const onProgress = flags.count || !process.stdout.isTTY ? bar.update : undefined
      try {
        if (flags.count) {
          const counts = await rdd.map((r) => r.partition).countByValue(onProgress ? { onProgress } : {})
          bar.done()
          let total = 0
          for (const range of ranges) {
            const n = counts.get(range.partition) ?? 0
            total += n
            io.stdout(
              `${topic}-${range.partition} [${range.fromOffset}, ${range.untilOffset}): ${records(n)}\n`,
            )
          }
          io.stdout(`total: ${records(total)}\n`)
        } else {
          await rdd.foreachPartition(
            async (partitionRecords) => {
              for await (const record of partitionRecords) io.stdout(`${recordLine(record)}\n`)
            },
            onProgress ? { onProgress } : {},
          )
          bar.done()
        }
      } catch (error) {
        bar.done()
        throw error
      }
      return 0
    } finally {
      await client.close()
    }
  },
})

type Bound = 'earliest' | 'latest' | bigint

/** One range per partition: offsets resolved against the log, explicit ones clamped to it. */
async function rangesToRead(
  client: KafkaClient,
  topic: string,
  partition: number | undefined,
  from: Bound,
  until: Bound,
): Promise<OffsetRange[]> {
  const info = (await client.metadata([topic])).topics.get(topic)
  if (!info) throw new SluiceError(ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION, `topic '${topic}' does not exist`)
  const partitions = info.partitions
    .map((p) => p.partition)
    .filter((p) => partition === undefined || p === partition)
  if (partitions.length === 0) {
    throw new SluiceError(
      ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION,
      `topic '${topic}' has no partition ${partition}`,
    )
  }
  const wanted = partitions.map((p) => ({ topic, partition: p }))
  const [starts, ends] = await Promise.all([
    client.listOffsets(wanted, 'earliest'),
    client.listOffsets(wanted, 'lastStable'),
  ])
  return partitions.map((p, i) => {
    const start = starts[i]!.offset
    const end = ends[i]!.offset
    const first = within(from === 'earliest' ? start : from === 'latest' ? end : from, start, end)
    // An until before the from reads nothing rather than failing.
    const last = within(until === 'earliest' ? start : until === 'latest' ? end : until, first, end)
    return OffsetRange.create(topic, p, first, last)
  })
}

const records = (n: number) => `${n.toLocaleString('en')} record${n === 1 ? '' : 's'}`

function within(offset: bigint, low: bigint, high: bigint): bigint {
  if (offset < low) return low
  if (offset > high) return high
  return offset
}

function recordLine(record: KafkaRecord<string, string>): string {
  return JSON.stringify({
    partition: record.partition,
    offset: String(record.offset),
    timestamp: record.timestamp,
    key: record.key,
    value: record.value,
  })
}
