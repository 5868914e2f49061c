import { invalidOption } from '../core/errors.ts'
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

export function resolveStartingOffsets(value: StartingOffsets | undefined): ResolvedStartingOffsets {
  if (value === undefined || value === 'latest') return { kind: 'latest' }
  if (value === 'earliest') return { kind: 'earliest' }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidOption(
      'startingOffsets',
      `must be 'earliest', 'latest', { timestamp } or { topic: { partition: offset } }, got ${JSON.stringify(value)}`,
    )
  }
  if ('timestamp' in value && typeof value.timestamp === 'number') {
    if (!Number.isFinite(value.timestamp) || value.timestamp < 0) {
      throw invalidOption('startingOffsets.timestamp', `must be ms since the epoch, got ${value.timestamp}`)
    }
    return { kind: 'timestamp', timestamp: value.timestamp }
  }
  const offsets = new Map<string, bigint>()
  for (const [topic, partitions] of Object.entries(value as Record<string, Record<number, OffsetLike>>)) {
    if (partitions === null || typeof partitions !== 'object') {
      throw invalidOption(`startingOffsets.${topic}`, 'must map partition numbers to offsets')
    }
    for (const [partition, offset] of Object.entries(partitions)) {
      try {
        const range = OffsetRange.create(topic, Number(partition), offset, offset)
        offsets.set(partitionKey(topic, range.partition), range.fromOffset)
      } catch (error) {
        throw invalidOption(
          `startingOffsets.${topic}.${partition}`,
          `is not a valid offset: ${(error as Error).message}`,
        )
      }
    }
  }
  return { kind: 'specific', offsets }
}
