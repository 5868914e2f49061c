import type { SinkOffsetRange } from './batch.ts'

/**
 * Where one partition's stored offset stands relative to a batch's range:
 * `undefined` means nothing is stored yet (the partition's first batch).
 */
export type StoredOffsetOf = (range: SinkOffsetRange) => bigint | undefined

/** The offsets the stream declared lost in a partition (see `SinkBatch.lostRanges`), in offset order. */
export type LostRangesOf = (range: SinkOffsetRange) => readonly SinkOffsetRange[]

/**
 * The lowest stored offset from which `range` may be written: its from-offset, or further
 * back when lost ranges cover everything between — records retention deleted before the
 * stream read them, which the stream skipped on purpose.
 */
export function lowestStartOf(range: SinkOffsetRange, lost: readonly SinkOffsetRange[]): bigint {
  let start = range.fromOffset
  for (let i = lost.length - 1; i >= 0; i--) {
    const skipped = lost[i]!
    if (skipped.fromOffset < start && skipped.untilOffset >= start) start = skipped.fromOffset
  }
  return start
}

export type OffsetCheck =
  /** Every partition is at its from-offset (or has nothing stored): write the batch. */
  | { readonly kind: 'apply' }
  /** Every partition is at its until-offset: the batch was written before. */
  | { readonly kind: 'already-applied' }
  /** The stored offset of `range` is neither from nor until: a gap or an overlap. */
  | { readonly kind: 'mismatch'; readonly range: SinkOffsetRange; readonly stored: bigint | undefined }
  /**
   * Some partitions are at until (`applied`), others at from or new (`pending`): no single
   * run of this batch can explain that, so nothing is written.
   */
  | {
      readonly kind: 'partly-applied'
      readonly applied: SinkOffsetRange
      readonly pending: SinkOffsetRange
      readonly stored: bigint | undefined
    }

/**
 * The decision every offset-keeping sink makes before writing a batch, shared so that the
 * SQL and Kafka sinks behave identically. An empty range (from == until) fits both
 * "before" and "after", so it never decides; a batch of only empty ranges is applied
 * (there is nothing to tell a replay from a first run). A stored offset below the
 * from-offset is a gap unless lost ranges cover it; then the batch writes over it.
 */
export function checkStoredOffsets(
  ranges: readonly SinkOffsetRange[],
  storedOf: StoredOffsetOf,
  lostOf: LostRangesOf = () => [],
): OffsetCheck {
  let applied: SinkOffsetRange | undefined
  let pending: { range: SinkOffsetRange; stored: bigint | undefined } | undefined
  for (const range of ranges) {
    const stored = storedOf(range)
    const empty = range.fromOffset === range.untilOffset
    const skipsLost =
      stored !== undefined && stored < range.fromOffset && stored >= lowestStartOf(range, lostOf(range))
    if (stored === undefined || (stored === range.fromOffset && !empty) || skipsLost) {
      pending ??= { range, stored }
    } else if (stored === range.untilOffset) {
      if (!empty) applied ??= range
    } else {
      return { kind: 'mismatch', range, stored }
    }
  }
  if (applied === undefined) return { kind: 'apply' }
  if (pending === undefined) return { kind: 'already-applied' }
  return { kind: 'partly-applied', applied, pending: pending.range, stored: pending.stored }
}
