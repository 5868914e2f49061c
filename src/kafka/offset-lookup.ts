import type { listOffsetsV9 } from '@platformatic/kafka'
import { partitionKey } from '../core/partition-key.ts'
import { brokerAddress, type Cluster, groupByLeader } from './cluster.ts'
import { partitionError } from './errors.ts'
import type { KafkaConnection } from './kafka-connection.ts'
import type { RetryControl } from './retry.ts'
import type { OffsetSpec, PartitionOffset, TopicPartition } from './types.ts'
import { callAllowingPartitionErrors, negotiatedApi } from './wire.ts'

/**
 * ListOffsets, sent to each partition's leader with its leader epoch (so a stale leader
 * answers FENCED_LEADER_EPOCH instead of an old offset) and the isolation level (so
 * 'lastStable' is the end of what read_committed readers may see).
 */
export class OffsetLookup {
  readonly #connection: KafkaConnection
  readonly #cluster: Cluster

  constructor(connection: KafkaConnection, cluster: Cluster) {
    this.#connection = connection
    this.#cluster = cluster
  }

  /** One offset per partition, in request order; retried like every read-path call. */
  async listOffsets(
    partitions: readonly TopicPartition[],
    spec: OffsetSpec,
    control: RetryControl = {},
  ): Promise<PartitionOffset[]> {
    this.#connection.checkOpen()
    if (partitions.length === 0) return []
    const timestamp = specTimestamp(spec)
    const isolationLevel = spec === 'lastStable' ? 1 : 0
    const topics = [...new Set(partitions.map((p) => p.topic))]
    const admin = this.#connection.admin
    const found = await this.#connection.retry(
      `listing ${describeSpec(spec)} offsets`,
      async (attempt) => {
        const cluster = await this.#cluster.describe(topics, attempt > 1)
        const api = await negotiatedApi(admin, 'ListOffsets')
        const results = new Map<string, bigint>()
        // One request per leader, all in flight at once: planning waits one round trip, not
        // one per broker that leads a partition of the job.
        const perLeader = [...groupByLeader(cluster, partitions)].map(async ([leader, byTopic]) => {
          const connection = await admin.connections.get(brokerAddress(cluster, leader))
          const request = [...byTopic].map(([name, list]) => ({
            name,
            partitions: list.map((p) => ({
              partitionIndex: p.partition,
              currentLeaderEpoch: p.leaderEpoch,
              timestamp,
            })),
          }))
          return callAllowingPartitionErrors<listOffsetsV9.ListOffsetsResponse>(() =>
            api.async(connection, -1, isolationLevel, request),
          )
        })
        for (const response of await Promise.all(perLeader)) {
          for (const topic of response.topics) {
            for (const p of topic.partitions) {
              if (p.errorCode !== 0)
                throw partitionError('listing offsets', topic.name, p.partitionIndex, p.errorCode)
              results.set(partitionKey(topic.name, p.partitionIndex), p.offset)
            }
          }
        }
        return results
      },
      { stopRetrying: control.stopRetrying },
    )
    const offsets = partitions.map((p) => ({
      ...p,
      offset: found.get(partitionKey(p.topic, p.partition)) ?? -1n,
    }))
    // A timestamp after the last record has no offset (-1): start from the log end instead.
    const missing = offsets.filter((o) => o.offset < 0n)
    if (missing.length === 0) return offsets
    const ends = await this.listOffsets(missing, 'latest', control)
    const endOf = new Map(ends.map((e) => [partitionKey(e.topic, e.partition), e.offset]))
    return offsets.map((o) =>
      o.offset < 0n ? { ...o, offset: endOf.get(partitionKey(o.topic, o.partition))! } : o,
    )
  }
}

function specTimestamp(spec: OffsetSpec): bigint {
  if (spec === 'earliest') return -2n
  if (spec === 'latest' || spec === 'lastStable') return -1n
  return BigInt(Math.trunc(spec.timestamp))
}

function describeSpec(spec: OffsetSpec): string {
  return typeof spec === 'string' ? spec : `timestamp ${new Date(spec.timestamp).toISOString()}`
}
