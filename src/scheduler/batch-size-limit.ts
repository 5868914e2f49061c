/**
 * How many records each partition may contribute to the next batch — Spark's
 * `maxMessagesPerPartition` and `clamp` for the direct Kafka stream, as pure functions.
 */

export interface BatchRateLimits {
  /** Stream-wide rate in records per second from backpressure (or `initialRate`), if there is one. */
  readonly estimatedRate?: number | undefined
  /** Records per second per partition at most; 0 = no limit. */
  readonly maxRatePerPartition: number
  /** Records per partition per batch at least, whenever the batch is limited at all. */
  readonly minRatePerPartition: number
  readonly batchIntervalMs: number
}

/** Where a partition stands when the next batch is planned. */
export interface PartitionPosition {
  readonly topic: string
  readonly partition: number
  /** The next offset to read: the previous batch's until-offset. */
  readonly fromOffset: bigint
  /** The partition's latest offset (high watermark or last stable offset). */
  readonly latestOffset: bigint
}

/** A planned range: `fromOffset` inclusive, `untilOffset` exclusive. */
export interface PlannedPartitionRange {
  readonly topic: string
  readonly partition: number
  readonly fromOffset: bigint
  readonly untilOffset: bigint
}

/**
 * Per-partition rates in records per second. With an estimate, the stream's rate is split
 * in proportion to each partition's lag (the partitions furthest behind catch up fastest),
 * each share capped by `maxRatePerPartition`; without one, every partition gets
 * `maxRatePerPartition`. When nothing lags there is nothing to share, and nobody gets a
 * share (Spark divides by zero here and gets NaN, which ends up meaning "no limit" too).
 */
function ratesPerPartition(lags: readonly bigint[], limits: BatchRateLimits): number[] {
  const { estimatedRate, maxRatePerPartition } = limits
  if (estimatedRate === undefined || !(estimatedRate > 0)) return lags.map(() => maxRatePerPartition)
  const totalLag = lags.reduce((sum, lag) => sum + lag, 0n)
  if (totalLag === 0n) return lags.map(() => 0)
  return lags.map((lag) => {
    const share = (Number(lag) / Number(totalLag)) * estimatedRate
    return maxRatePerPartition > 0 ? Math.min(share, maxRatePerPartition) : share
  })
}

/**
 * The most records each partition may contribute to the next batch, index-aligned with
 * `lags` (latest offset − next offset, per partition; a negative lag counts as 0), or
 * undefined when the batch is not limited at all. A limited partition always gets at
 * least `minRatePerPartition` records, so a partition with little lag is never starved.
 */
export function maxRecordsPerPartition(
  lags: readonly bigint[],
  limits: BatchRateLimits,
): bigint[] | undefined {
  const rates = ratesPerPartition(
    lags.map((lag) => (lag > 0n ? lag : 0n)),
    limits,
  )
  if (!(rates.reduce((sum, rate) => sum + rate, 0) > 0)) return undefined
  const secondsPerBatch = limits.batchIntervalMs / 1000
  const floor = BigInt(limits.minRatePerPartition)
  return rates.map((rate) => {
    const records = BigInt(Math.floor(secondsPerBatch * rate))
    return records > floor ? records : floor
  })
}

/**
 * The until-offset of a partition's next range: `fromOffset + maxRecords`, but never past
 * the latest offset and never below `fromOffset` (a partition whose latest offset moved
 * back yields an empty range rather than a negative one).
 */
export function clampUntilOffset(fromOffset: bigint, latestOffset: bigint, maxRecords?: bigint): bigint {
  const limit = maxRecords === undefined ? latestOffset : fromOffset + maxRecords
  const until = limit < latestOffset ? limit : latestOffset
  return until > fromOffset ? until : fromOffset
}

/** The next batch's range for every partition, in the order given, rate limits applied. */
export function planBatchRanges(
  positions: readonly PartitionPosition[],
  limits: BatchRateLimits,
): PlannedPartitionRange[] {
  const maxRecords = maxRecordsPerPartition(
    positions.map((position) => position.latestOffset - position.fromOffset),
    limits,
  )
  return positions.map(({ topic, partition, fromOffset, latestOffset }, i) => ({
    topic,
    partition,
    fromOffset,
    untilOffset: clampUntilOffset(fromOffset, latestOffset, maxRecords?.[i]),
  }))
}
