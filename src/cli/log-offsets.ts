import { messageOf } from '../core/errors.ts'
import { partitionKey } from '../core/partition-key.ts'
import type { KafkaClient } from '../kafka/client.ts'
import type { TopicPartition } from '../kafka/types.ts'

/** Where a partition's log starts and ends now, or why that is not known. */
export type LogBounds = { readonly logStart: bigint; readonly latest: bigint } | { readonly missing: string }

/**
 * The log start and latest offset (the last stable offset, what a read_committed job reads
 * up to) of each partition, keyed by `partitionKey`. A topic or partition that no longer
 * exists, or whose offsets cannot be listed, gets the reason instead: the others are still
 * shown.
 */
export async function logBounds(
  client: KafkaClient,
  partitions: readonly TopicPartition[],
): Promise<Map<string, LogBounds>> {
  const bounds = new Map<string, LogBounds>()
  const topics = [...new Set(partitions.map((p) => p.topic))]
  for (const topic of topics) {
    const wanted = partitions.filter((p) => p.topic === topic)
    try {
      const info = (await client.metadata([topic], { refresh: true })).topics.get(topic)
      const existing = new Set(info?.partitions.map((p) => p.partition) ?? [])
      const present = wanted.filter((p) => existing.has(p.partition))
      for (const p of wanted) {
        if (!existing.has(p.partition)) {
          const missing = info === undefined ? `topic '${topic}' does not exist` : 'no such partition'
          bounds.set(partitionKey(p.topic, p.partition), { missing })
        }
      }
      const [starts, ends] = await Promise.all([
        client.listOffsets(present, 'earliest'),
        client.listOffsets(present, 'lastStable'),
      ])
      present.forEach((p, i) => {
        bounds.set(partitionKey(p.topic, p.partition), {
          logStart: starts[i]!.offset,
          latest: ends[i]!.offset,
        })
      })
    } catch (error) {
      for (const p of wanted) bounds.set(partitionKey(p.topic, p.partition), { missing: messageOf(error) })
    }
  }
  return bounds
}

/** How many records `position` is behind the log's latest offset (0 at or past it). */
function lagBehind(position: bigint, latest: bigint): bigint {
  return latest > position ? latest - position : 0n
}

/** A partition's log bounds and lag as `--json` fields; none when its bounds were not asked for. */
export function boundsJson(position: bigint, bound: LogBounds | undefined): Record<string, string | null> {
  if (bound === undefined) return {}
  if ('missing' in bound) return { logStart: null, latest: null, lag: null, logError: bound.missing }
  return {
    logStart: bound.logStart.toString(),
    latest: bound.latest.toString(),
    lag: lagBehind(position, bound.latest).toString(),
  }
}

/** The same as three text columns: log start, latest and lag, or why they are not known. */
export function boundsColumns(position: bigint, bound: LogBounds | undefined): string[] {
  if (bound === undefined) return ['-', '-', '-']
  if ('missing' in bound) return ['-', '-', bound.missing]
  return [bound.logStart.toString(), bound.latest.toString(), lagBehind(position, bound.latest).toString()]
}
