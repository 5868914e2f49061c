// The peer for the stream word count: the raw @platformatic/kafka fetch loop of
// raw-fetch-loop.ts, doing the same word count by hand in a Map.
import { Consumer } from '@platformatic/kafka'
import { caseArgs, report } from '../env.ts'

const { brokers, topic, partitions, perPartition } = caseArgs()
const consumer = new Consumer({
  clientId: 'bench-raw-wc',
  groupId: `bench-raw-wc-${Date.now()}`,
  bootstrapBrokers: brokers,
})
const metadata = await consumer.metadata({ topics: [topic] })
const topicInfo = metadata.topics.get(topic)!
const until = BigInt(perPartition)
const next = Array.from({ length: partitions }, () => 0n)
const leader = topicInfo.partitions[0]!.leader
const counts = new Map<string, number>()
const started = performance.now()
let records = 0
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
          if (offset < next[partition.partitionIndex]! || offset >= until || record.value === null) continue
          records++
          for (const word of record.value.toString('utf8').split(' '))
            counts.set(word, (counts.get(word) ?? 0) + 1)
        }
        const end = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n
        if (end > next[partition.partitionIndex]!) next[partition.partitionIndex] = end
      }
    }
  }
}
report({
  name: 'raw @platformatic/kafka loop + Map word count',
  records,
  ms: performance.now() - started,
  extra: { distinct: counts.size },
})
await consumer.close()
