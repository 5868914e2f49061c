import { ErrorCodes, SluiceError } from '../core/errors.ts'
import { partitionKey } from '../core/partition-key.ts'
import type { KafkaClient } from '../kafka/client.ts'
import type { OffsetRange } from '../kafka/offset-range.ts'
import type { IsolationLevel } from '../kafka/types.ts'

/**
 * Checks, before any task runs, that every range lies inside what its partition holds:
 * `logStart <= from` and `until <= logEnd` (the last stable offset under read_committed,
 * since nothing past it may be read). Unknown topics and partitions fail the same way, so a
 * bad batch never starts half-way.
 */
export async function checkRangesInLog(
  client: KafkaClient,
  ranges: readonly OffsetRange[],
  isolationLevel: IsolationLevel,
): Promise<void> {
  if (ranges.length === 0) return
  const topics = [...new Set(ranges.map((r) => r.topic))]
  const cluster = await client.metadata(topics).catch((error: unknown) => {
    if (error instanceof SluiceError && error.code === ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION) {
      const range = ranges.find((r) => r.topic === error.details.topic) ?? ranges[0]!
      throw new SluiceError(
        ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION,
        `offset range ${range}: ${error.message}`,
        {
          cause: error,
          details: { ...error.details, range: range.toJSON() },
        },
      )
    }
    throw error
  })
  for (const range of ranges) {
    const partitions = cluster.topics.get(range.topic)?.partitions.length ?? 0
    if (range.partition >= partitions) {
      throw new SluiceError(
        ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION,
        `offset range ${range}: partition ${range.partition} does not exist in topic '${range.topic}' (it has ${partitions})`,
        { details: { range: range.toJSON() } },
      )
    }
  }
  const partitions = uniquePartitions(ranges)
  const [starts, ends] = await Promise.all([
    client.listOffsets(partitions, 'earliest'),
    client.listOffsets(partitions, isolationLevel === 'read_committed' ? 'lastStable' : 'latest'),
  ])
  const startOf = new Map(starts.map((o) => [partitionKey(o.topic, o.partition), o.offset]))
  const endOf = new Map(ends.map((o) => [partitionKey(o.topic, o.partition), o.offset]))
  for (const range of ranges) {
    const key = partitionKey(range.topic, range.partition)
    const logStart = startOf.get(key)!
    const logEnd = endOf.get(key)!
    if (range.fromOffset < logStart || range.untilOffset > logEnd) {
      const endName = isolationLevel === 'read_committed' ? 'last stable offset' : 'log end'
      throw new SluiceError(
        ErrorCodes.OFFSET_OUT_OF_RANGE,
        `offset range ${range} is outside what ${range.topic}-${range.partition} holds: ` +
          `valid offsets are [${logStart}, ${logEnd}) (log start, ${endName})`,
        { details: { range: range.toJSON(), logStart, logEnd } },
      )
    }
  }
}

function uniquePartitions(ranges: readonly OffsetRange[]) {
  const seen = new Map<string, { topic: string; partition: number }>()
  for (const r of ranges)
    seen.set(partitionKey(r.topic, r.partition), { topic: r.topic, partition: r.partition })
  return [...seen.values()]
}
