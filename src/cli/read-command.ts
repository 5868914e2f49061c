import { ErrorCodes, SluiceError } from '../core/errors.ts'
import { createLogger } from '../core/logger.ts'
import { KafkaClient } from '../kafka/client.ts'
import { OffsetRange } from '../kafka/offset-range.ts'
import type { KafkaRecord } from '../kafka/records.ts'
import { TerminalProgressBar } from '../observe/progress-bar.ts'
import { createRDD } from '../source/create-rdd.ts'
import { parseArgs } from './args.ts'

const usage = `usage:
  sluice read <topic> --brokers B [--partition N] [--from earliest|N] [--until latest|N] [--count]

  Reads the records of a topic (or one partition) from offset --from (default earliest) up to
  --until (default latest: the last stable offset), as a batch job (createRDD).
  Prints one JSON line per record: {"partition","offset","timestamp","key","value"}, key and
  value as UTF-8 text. With --count, prints how many records each partition holds in that
  range instead, by reading them (exact on compacted and transactional topics, where offsets
  overcount). A progress bar goes to stderr while it reads, when stderr is a terminal and
  the records are not printed to it.`

/** `sluice read`: a topic's records, or their exact count, through a batch job. */
export async function readCommand(argv: readonly string[]): Promise<number> {
  const { positionals, flags } = parseArgs(argv, new Set(['brokers', 'partition', 'from', 'until']))
  const topic = positionals[0]
  const brokers = flags.get('brokers')
  const unknown = [...flags.keys()].filter(
    (f) => !['brokers', 'partition', 'from', 'until', 'count'].includes(f),
  )
  if (!topic || positionals.length > 1 || typeof brokers !== 'string' || unknown.length > 0) {
    console.error(unknown.length > 0 ? `unknown flag --${unknown[0]}\n\n${usage}` : usage)
    return 2
  }
  const partition = flags.has('partition') ? offsetFlag('partition', flags.get('partition')) : undefined
  const from = boundFlag('from', flags.get('from'), 'earliest')
  const until = boundFlag('until', flags.get('until'), 'latest')
  const logger = createLogger({ level: process.env.SLUICE_LOG_LEVEL === undefined ? 'warn' : undefined })
  const client = new KafkaClient({ brokers: brokers.split(','), logger })
  try {
    const ranges = await rangesToRead(
      client,
      topic,
      partition === undefined ? undefined : Number(partition),
      from,
      until,
    )
    const rdd = createRDD<string, string>(
      { client, deserializers: { key: 'string', value: 'string' }, logger },
      ranges,
    )
    const counting = flags.has('count')
    const bar = new TerminalProgressBar(`reading ${topic}`)
    // Records printed to the terminal would tear the bar's line: draw it only when they go elsewhere.
    const onProgress = counting || !process.stdout.isTTY ? bar.update : undefined
    try {
      if (counting) {
        const counts = await rdd.map((r) => r.partition).countByValue(onProgress ? { onProgress } : {})
        let total = 0
        bar.done()
        for (const range of ranges) {
          const n = counts.get(range.partition) ?? 0
          total += n
          console.log(
            `${topic}-${range.partition} [${range.fromOffset}, ${range.untilOffset}): ${records(n)}`,
          )
        }
        console.log(`total: ${records(total)}`)
      } else {
        await rdd.foreachPartition(
          async (records) => {
            for await (const record of records) process.stdout.write(`${recordLine(record)}\n`)
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
}

type Bound = 'earliest' | 'latest' | bigint

function offsetFlag(name: string, value: string | true | undefined): bigint {
  if (typeof value !== 'string' || !/^\d+$/.test(value)) {
    throw new SluiceError(
      ErrorCodes.INVALID_ARGUMENT,
      `--${name} must be a non-negative integer, got ${JSON.stringify(value)}`,
    )
  }
  return BigInt(value)
}

function boundFlag(name: string, value: string | true | undefined, fallback: Bound): Bound {
  if (value === undefined) return fallback
  if (value === 'earliest' || value === 'latest') return value
  return offsetFlag(name, value)
}

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
