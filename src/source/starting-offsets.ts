import { describeReceived } from '../core/describe-value.ts'
import { invalidOption } from '../core/errors.ts'
import {
  customOption,
  numberOption,
  type OptionType,
  oneOf,
  optionPath,
  unknownOption,
} from '../core/options.ts'
import { partitionKey } from '../core/partition-key.ts'
import type { OffsetLike } from '../kafka/offset-range.ts'
import { OffsetRange } from '../kafka/offset-range.ts'

/**
 * Where a stream starts when there is no checkpoint: the log start, the log end, the first
 * record at or after a timestamp, or explicit offsets per partition (partitions not listed
 * start at the log start, as do partitions that appear later).
 */
export type StartingOffsets =
  | 'earliest'
  | 'latest'
  | { readonly timestamp: number }
  | Readonly<Record<string, Readonly<Record<number, OffsetLike>>>>

export type ResolvedStartingOffsets =
  | { readonly kind: 'earliest' }
  | { readonly kind: 'latest' }
  | { readonly kind: 'timestamp'; readonly timestamp: number }
  | { readonly kind: 'specific'; readonly offsets: ReadonlyMap<string, bigint> }

const expected = "'earliest', 'latest', { timestamp } or { topic: { partition: offset } }"
const startName = oneOf(['earliest', 'latest'], expected)
const timestamp = numberOption({ min: 0, unit: 'ms since the epoch' })

function parseStartingOffsets(value: unknown, path: string): ResolvedStartingOffsets {
  if (typeof value === 'string') return { kind: startName.parse(value, path) }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidOption(path, `must be ${expected}, got ${describeReceived(value)}`)
  }
  const given = value as Record<string, unknown>
  // A topic may be called "timestamp": only a non-object value makes this the timestamp form.
  if ('timestamp' in given && (given.timestamp === null || typeof given.timestamp !== 'object')) {
    const extra = Object.keys(given).find((key) => key !== 'timestamp')
    if (extra !== undefined) throw unknownOption(path, extra, ['timestamp'])
    return { kind: 'timestamp', timestamp: timestamp.parse(given.timestamp, optionPath(path, 'timestamp')) }
  }
  const offsets = new Map<string, bigint>()
  for (const [topic, partitions] of Object.entries(given)) {
    if (partitions === null || typeof partitions !== 'object' || Array.isArray(partitions)) {
      throw invalidOption(
        optionPath(path, topic),
        `must map partition numbers to offsets, got ${describeReceived(partitions)}`,
      )
    }
    for (const [partition, offset] of Object.entries(partitions)) {
      const where = optionPath(optionPath(path, topic), partition)
      if (!/^(0|[1-9]\d*)$/.test(partition)) throw invalidOption(where, 'is not a partition number')
      try {
        const range = OffsetRange.create(topic, Number(partition), offset as OffsetLike, offset as OffsetLike)
        offsets.set(partitionKey(topic, range.partition), range.fromOffset)
      } catch (error) {
        throw invalidOption(where, `is not a valid offset: ${(error as Error).message}`)
      }
    }
  }
  return { kind: 'specific', offsets }
}

/** The `startingOffsets` option, parsed into the form the stream plans from. */
export const startingOffsetsOption: OptionType<ResolvedStartingOffsets> = customOption(
  expected,
  parseStartingOffsets,
)

export function resolveStartingOffsets(value: StartingOffsets | undefined): ResolvedStartingOffsets {
  return value === undefined ? { kind: 'latest' } : parseStartingOffsets(value, 'startingOffsets')
}
