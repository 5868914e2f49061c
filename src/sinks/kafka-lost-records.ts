import type { SinkBatch, SinkOffsetRange } from './batch.ts'

/**
 * What the Kafka sink keeps about records lost to retention in one partition, in the metadata
 * string of the group's committed offset (Kafka's OffsetAndMetadata): the running total and
 * the latest lost range. The metadata is committed in the batch's transaction with the
 * offset and carried forward by every later commit, so any tool that lists the group's
 * offsets with their metadata shows it.
 */
export interface LostRecords {
  readonly topic: string
  readonly partition: number
  /** Records skipped so far in this partition, over every batch. */
  readonly records: bigint
  /** The most recent lost range and the batch that skipped it. */
  readonly last: { readonly fromOffset: bigint; readonly untilOffset: bigint; readonly batchId: number }
}

/** Marks sluice's metadata, so that metadata committed by other tools is left alone. */
const format = 'sluice.lost.v1'

interface Encoded {
  readonly format: typeof format
  readonly records: string
  readonly last: { readonly from: string; readonly until: string; readonly batch: number }
}

/** The lost-records state in `metadata`, or undefined when it holds none (or something else). */
export function decodeLostRecords(
  partition: { topic: string; partition: number },
  metadata: string | undefined,
): LostRecords | undefined {
  if (metadata === undefined || !metadata.startsWith('{')) return undefined
  try {
    const value = JSON.parse(metadata) as Partial<Encoded>
    if (value.format !== format || value.last === undefined) return undefined
    return {
      topic: partition.topic,
      partition: partition.partition,
      records: BigInt(value.records ?? '0'),
      last: {
        fromOffset: BigInt(value.last.from),
        untilOffset: BigInt(value.last.until),
        batchId: Number(value.last.batch),
      },
    }
  } catch {
    return undefined
  }
}

/**
 * The metadata to commit with `range`'s until-offset: the previous state plus what this
 * batch lost in the partition; undefined while the partition never lost anything.
 */
export function nextLostMetadata(
  batch: SinkBatch,
  range: SinkOffsetRange,
  previous: LostRecords | undefined,
): string | undefined {
  const lost = (batch.lostRanges ?? []).filter(
    (l) => l.topic === range.topic && l.partition === range.partition,
  )
  if (lost.length === 0 && previous === undefined) return undefined
  let records = previous?.records ?? 0n
  let last = previous?.last
  for (const l of lost) {
    records += l.untilOffset - l.fromOffset
    if (last === undefined || l.fromOffset >= last.fromOffset)
      last = { fromOffset: l.fromOffset, untilOffset: l.untilOffset, batchId: batch.id }
  }
  const encoded: Encoded = {
    format,
    records: records.toString(),
    last: { from: last!.fromOffset.toString(), until: last!.untilOffset.toString(), batch: last!.batchId },
  }
  return JSON.stringify(encoded)
}
