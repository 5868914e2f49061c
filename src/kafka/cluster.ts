import type { Admin, ClusterMetadata } from '@platformatic/kafka'
import { ErrorCodes, messageOf, SluiceError } from '../core/errors.ts'
import type { KafkaConnection } from './kafka-connection.ts'
import type { BrokerInfo, ClusterInfo, PartitionInfo, TopicInfo, TopicPartition } from './types.ts'

/**
 * The cluster as the read path sees it: which topics exist, their partitions, and who leads
 * each. Every public call retries retriable failures (a broker restarting, a leader moving)
 * until `retryTimeoutMs`, asking for fresh metadata on each new attempt.
 */
export class Cluster {
  readonly #connection: KafkaConnection

  constructor(connection: KafkaConnection) {
    this.#connection = connection
  }

  /** Metadata for the given topics, or every non-internal topic when none are given. */
  async metadata(topics?: readonly string[], options: { refresh?: boolean } = {}): Promise<ClusterInfo> {
    return this.#connection.retry('reading cluster metadata', async (attempt) => {
      const names = topics === undefined ? await this.#listTopicsOnce() : [...topics]
      return this.describe(names, (options.refresh ?? false) || attempt > 1)
    })
  }

  /** Names of every non-internal topic, sorted. */
  async listTopics(): Promise<string[]> {
    return this.#connection.retry('listing topics', () => this.#listTopicsOnce())
  }

  /**
   * One metadata request, not retried: for operations that run their own retry loop and
   * refresh metadata between their attempts.
   */
  async describe(topics: readonly string[], refresh: boolean): Promise<ClusterInfo> {
    this.#connection.checkOpen()
    const names = [...topics]
    return toClusterInfo(await this.#rawMetadata(names, refresh), names)
  }

  async #listTopicsOnce(): Promise<string[]> {
    this.#connection.checkOpen()
    try {
      return (await this.#admin.listTopics({ includeInternals: false })).sort()
    } catch (error) {
      throw this.#connection.failure('listing topics', error)
    }
  }

  get #admin(): Admin {
    return this.#connection.admin
  }

  async #rawMetadata(topics: string[], refresh: boolean): Promise<ClusterMetadata> {
    try {
      // The wire client sorts the array it is given in place: hand it a copy.
      return await this.#admin.metadata({ topics: [...topics], forceUpdate: refresh })
    } catch (error) {
      const unknown = /^Unknown topic (.*)\.$/.exec(messageOf(error))
      if (unknown) {
        throw new SluiceError(ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION, `topic '${unknown[1]}' does not exist`, {
          cause: error,
          details: { topic: unknown[1] },
        })
      }
      throw this.#connection.failure('reading cluster metadata', error)
    }
  }
}

function toClusterInfo(raw: ClusterMetadata, names: readonly string[]): ClusterInfo {
  const brokers = new Map<number, BrokerInfo>()
  for (const [nodeId, broker] of raw.brokers)
    brokers.set(nodeId, { nodeId, host: broker.host, port: broker.port })
  const topics = new Map<string, TopicInfo>()
  for (const name of names) {
    const topic = raw.topics.get(name)
    if (!topic) continue
    const partitions: PartitionInfo[] = topic.partitions.map((p, partition) => ({
      partition,
      leader: p.leader,
      leaderEpoch: p.leaderEpoch,
      replicas: p.replicas,
      isr: p.isr,
    }))
    topics.set(name, { name, id: topic.id, partitions })
  }
  return { clusterId: raw.id, brokers, topics }
}

/** The partition's metadata and its leader's address; a partition without a leader is retriable. */
export function requireLeader(cluster: ClusterInfo, topic: string, partition: number) {
  const topicInfo = cluster.topics.get(topic)
  const info = topicInfo?.partitions[partition]
  if (!topicInfo || !info) {
    throw new SluiceError(
      ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION,
      topicInfo
        ? `partition ${partition} does not exist in topic '${topic}' (it has ${topicInfo.partitions.length})`
        : `topic '${topic}' does not exist`,
      { details: { topic, partition } },
    )
  }
  const leader = cluster.brokers.get(info.leader)
  if (info.leader < 0 || !leader) {
    throw new SluiceError(ErrorCodes.KAFKA, `${topic}-${partition} has no leader right now`, {
      retriable: true,
      details: { topic, partition },
    })
  }
  return { info, leader }
}

/** Partitions grouped by leader node id, then by topic, for one request per leader. */
export function groupByLeader(cluster: ClusterInfo, partitions: readonly TopicPartition[]) {
  const byLeader = new Map<number, Map<string, PartitionInfo[]>>()
  for (const { topic, partition } of partitions) {
    const { info } = requireLeader(cluster, topic, partition)
    const topics = byLeader.get(info.leader) ?? new Map<string, PartitionInfo[]>()
    byLeader.set(info.leader, topics)
    topics.set(topic, [...(topics.get(topic) ?? []), info])
  }
  return byLeader
}

/** The address of broker `nodeId`; one missing from metadata is retriable (the cluster is changing). */
export function brokerAddress(cluster: ClusterInfo, nodeId: number): { host: string; port: number } {
  const broker = cluster.brokers.get(nodeId)
  if (!broker) {
    throw new SluiceError(ErrorCodes.KAFKA, `broker ${nodeId} is not in the cluster metadata`, {
      retriable: true,
    })
  }
  return { host: broker.host, port: broker.port }
}
