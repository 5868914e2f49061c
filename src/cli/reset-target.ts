import { readFile } from 'node:fs/promises'
import { ErrorCodes, messageOf, SluiceError } from '../core/errors.ts'
import { partitionKey } from '../core/partition-key.ts'
import type { KafkaClient } from '../kafka/client.ts'
import type { TopicPartition } from '../kafka/types.ts'
import { ArgumentError, type FlagSpec, integerFlag, stringFlag, UsageError } from './flags.ts'

/** Where `--to` moves positions, as kafka-consumer-groups' --to-earliest, --to-latest, --to-datetime and --from-file. */
export type ResetTarget =
  | { readonly kind: 'earliest' }
  | { readonly kind: 'latest' }
  | { readonly kind: 'timestamp'; readonly timestamp: number; readonly text: string }
  | { readonly kind: 'file'; readonly path: string }

const isoTime = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/

/** The `--to` flag: `earliest`, `latest`, an ISO 8601 time, or a JSON file of offsets. */
export const toFlag: FlagSpec<ResetTarget> & { readonly required: true } = {
  value: 'earliest|latest|TIME|FILE',
  required: true,
  description:
    'the new positions: the log start, the latest offset (the last stable one), the first offset at or after ' +
    'an ISO 8601 time (2024-05-01T12:00:00Z), or a JSON file {"topic": {"partition": offset}}',
  parse: (text) => {
    if (text === 'earliest' || text === 'latest') return { kind: text }
    if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
      const timestamp = isoTime.test(text) ? Date.parse(text) : Number.NaN
      if (!Number.isFinite(timestamp) || timestamp < 0) {
        throw new UsageError(
          `is not a valid ISO 8601 time: ${JSON.stringify(text)} (e.g. 2024-05-01T12:00:00Z)`,
        )
      }
      return { kind: 'timestamp', timestamp, text }
    }
    if (!text.toLowerCase().endsWith('.json')) {
      throw new UsageError(
        `must be earliest, latest, an ISO 8601 time or a .json file of offsets, got ${JSON.stringify(text)}`,
      )
    }
    return { kind: 'file', path: text }
  },
}

/** `--topic` and `--partition`: which positions a reset moves (all of them by default). */
export const selectionFlags = {
  topic: stringFlag({ value: 'TOPIC', description: 'only the partitions of this topic' }),
  partition: integerFlag({
    value: 'N',
    description: 'only this partition (with --topic)',
    min: 0,
    max: 2 ** 31 - 1,
  }),
}

export interface Selection {
  readonly topic?: string | undefined
  readonly partition?: number | undefined
}

/** Checks --topic/--partition together: a partition alone names no topic. */
export function checkSelection(selection: Selection): void {
  if (selection.partition !== undefined && selection.topic === undefined) {
    throw new UsageError("option '--partition' needs '--topic'")
  }
}

export function selects(selection: Selection, p: TopicPartition): boolean {
  return (
    (selection.topic === undefined || p.topic === selection.topic) &&
    (selection.partition === undefined || p.partition === selection.partition)
  )
}

/** Offsets per partition read from an offsets file, keyed by `partitionKey`. */
export async function readOffsetsFile(
  path: string,
): Promise<Map<string, TopicPartition & { offset: bigint }>> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new ArgumentError(
      ErrorCodes.INVALID_ARGUMENT,
      `cannot read the offsets file '${path}': ${messageOf(error)}`,
    )
  }
  const bad = (problem: string) =>
    new ArgumentError(
      ErrorCodes.INVALID_ARGUMENT,
      `the offsets file '${path}' ${problem}; it must hold {"topic": {"partition": offset}}, offsets as numbers or decimal strings`,
    )
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw bad(`is not valid JSON (${messageOf(error)})`)
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw bad('does not hold a JSON object')
  const offsets = new Map<string, TopicPartition & { offset: bigint }>()
  for (const [topic, partitions] of Object.entries(json)) {
    if (partitions === null || typeof partitions !== 'object' || Array.isArray(partitions)) {
      throw bad(`maps topic '${topic}' to ${JSON.stringify(partitions)}, not to an object of partitions`)
    }
    for (const [partition, offset] of Object.entries(partitions as Record<string, unknown>)) {
      if (!/^(0|[1-9]\d{0,9})$/.test(partition) || Number(partition) > 2 ** 31 - 1) {
        throw bad(`has '${partition}' under topic '${topic}', which is not a partition number`)
      }
      const valid =
        (typeof offset === 'number' && Number.isSafeInteger(offset) && offset >= 0) ||
        (typeof offset === 'string' && /^(0|[1-9]\d*)$/.test(offset))
      if (!valid) throw bad(`gives ${topic}-${partition} the offset ${JSON.stringify(offset)}`)
      const p = { topic, partition: Number(partition), offset: BigInt(offset as number | string) }
      offsets.set(partitionKey(p.topic, p.partition), p)
    }
  }
  if (offsets.size === 0) throw bad('names no partition')
  return offsets
}

/** A partition's new position, and what the reset had to say about it. */
export interface ResolvedPosition {
  readonly offset: bigint
  /** The log's bounds now, when the cluster was asked. */
  readonly logStart?: bigint
  readonly latest?: bigint
  /** Why the target was adjusted (an offset outside the log is moved to its nearest end). */
  readonly note?: string
}

/**
 * Resolves `target` for `partitions` (already selected). `client` is needed for earliest,
 * latest and times; for a file it is optional and, when given, offsets outside the log are
 * clamped to it as kafka-consumer-groups does. A file's partitions outside `partitions` fail.
 */
export async function resolveTarget(
  target: ResetTarget,
  partitions: readonly TopicPartition[],
  client: KafkaClient | undefined,
  fileOffsets?: ReadonlyMap<string, TopicPartition & { offset: bigint }>,
): Promise<Map<string, ResolvedPosition>> {
  const result = new Map<string, ResolvedPosition>()
  if (partitions.length === 0) return result
  if (client === undefined) {
    if (target.kind !== 'file')
      throw new UsageError(`--to ${targetText(target)} needs --brokers (the cluster the job reads)`)
    for (const p of partitions)
      result.set(partitionKey(p.topic, p.partition), {
        offset: fileOffsets!.get(partitionKey(p.topic, p.partition))!.offset,
      })
    return result
  }
  const info = await client.metadata([...new Set(partitions.map((p) => p.topic))], { refresh: true })
  const gone = partitions.filter(
    (p) => !info.topics.get(p.topic)?.partitions.some((q) => q.partition === p.partition),
  )
  if (gone.length > 0) {
    throw new SluiceError(
      ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION,
      `the cluster has no partition ${gone.map((p) => `${p.topic}-${p.partition}`).join(', ')}; ` +
        'use --topic/--partition to leave it out',
    )
  }
  const [starts, ends] = await Promise.all([
    client.listOffsets(partitions, 'earliest'),
    client.listOffsets(partitions, 'lastStable'),
  ])
  const wanted =
    target.kind === 'timestamp'
      ? await client.listOffsets(partitions, { timestamp: target.timestamp })
      : undefined
  partitions.forEach((p, i) => {
    const key = partitionKey(p.topic, p.partition)
    const logStart = starts[i]!.offset
    const latest = ends[i]!.offset
    const bounds = { logStart, latest }
    if (target.kind === 'earliest') result.set(key, { offset: logStart, ...bounds })
    else if (target.kind === 'latest') result.set(key, { offset: latest, ...bounds })
    else if (target.kind === 'timestamp') {
      // No record at or after the time: the log end, as Kafka answers (never past the stable end).
      result.set(key, { offset: earlier(wanted![i]!.offset, latest), ...bounds })
    } else {
      const given = fileOffsets!.get(key)!.offset
      if (given < logStart) {
        result.set(key, {
          offset: logStart,
          ...bounds,
          note: `${given} is before the log start: moved to ${logStart}`,
        })
      } else if (given > latest) {
        result.set(key, {
          offset: latest,
          ...bounds,
          note: `${given} is past the latest offset: moved to ${latest}`,
        })
      } else {
        result.set(key, { offset: given, ...bounds })
      }
    }
  })
  return result
}

function earlier(a: bigint, b: bigint): bigint {
  return a < b ? a : b
}

export function targetText(target: ResetTarget): string {
  return target.kind === 'timestamp' ? target.text : target.kind === 'file' ? target.path : target.kind
}
