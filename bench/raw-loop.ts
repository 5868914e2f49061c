// The peer of the read benchmarks: a plain @platformatic/kafka fetch loop over whole
// partitions, one multi-partition fetch request at a time, as a hand-written consumer would do it.
import { Consumer } from '@platformatic/kafka'

/** Calls `onRecord` with the value of every record of `[0, perPartition)` of each partition. */
export async function rawFetchLoop(
  brokers: readonly string[],
  topic: string,
  partitions: number,
  perPartition: number,
  onRecord: (value: Buffer | null) => void,
): Promise<void> {
  const consumer = new Consumer({
    clientId: 'bench-raw',
    groupId: `bench-raw-${Date.now()}`,
    bootstrapBrokers: [...brokers],
  })
  try {
    const metadata = await consumer.metadata({ topics: [topic] })
    const topicInfo = metadata.topics.get(topic)!
    const until = BigInt(perPartition)
    const next = Array.from({ length: partitions }, () => 0n)
    const leader = topicInfo.partitions[0]!.leader
    while (next.some((offset) => offset < until)) {
      const response = await consumer.fetch({
        node: leader,
        maxWaitTime: 0,
        topics: [
          {
            topicId: topicInfo.id,
            partitions: next.flatMap((offset, partition) =>
              offset < until
                ? [
                    {
                      partition,
                      fetchOffset: offset,
                      partitionMaxBytes: 1024 * 1024,
                      currentLeaderEpoch: -1,
                      lastFetchedEpoch: -1,
                    },
                  ]
                : [],
            ),
          },
        ],
      })
      for (const topicResponse of response.responses) {
        for (const partition of topicResponse.partitions) {
          for (const batch of partition.records ?? []) {
            for (const record of batch.records) {
              const offset = batch.firstOffset + BigInt(record.offsetDelta)
              if (offset >= next[partition.partitionIndex]! && offset < until) onRecord(record.value)
            }
            const end = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n
            if (end > next[partition.partitionIndex]!) next[partition.partitionIndex] = end
          }
        }
      }
    }
  } finally {
    await consumer.close()
  }
}
