import { setTimeout as sleep } from 'node:timers/promises'
import type { Admin } from '@platformatic/kafka'
import { ErrorCodes, SluiceError } from '../core/errors.ts'
import type { Cluster } from './cluster.ts'
import { hasProtocolError } from './errors.ts'
import type { KafkaConnection } from './kafka-connection.ts'
import type { NewTopic, PartitionOffset } from './types.ts'

const alreadyExists = new Set(['TOPIC_ALREADY_EXISTS'])
const unknownTopic = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'UNKNOWN_TOPIC_ID'])
const invalidPartitions = new Set(['INVALID_PARTITIONS'])

/**
 * Topic administration: create, grow and delete topics, read their configs, and move log
 * start offsets (deleteRecords). Used by tools, tests and sinks, not by the read path.
 * Calls are retried like the read path's. Creating, growing and deleting are not idempotent,
 * so a retry that finds its own earlier attempt's effect (the answer was lost when the
 * broker went away) counts as success.
 */
export class TopicAdmin {
  readonly #connection: KafkaConnection
  readonly #cluster: Cluster

  constructor(connection: KafkaConnection, cluster: Cluster) {
    this.#connection = connection
    this.#cluster = cluster
  }

  get #admin(): Admin {
    this.#connection.checkOpen()
    return this.#connection.admin
  }

  /** Selected topic-level configs (e.g. `cleanup.policy`) of each topic, by topic name. */
  async topicConfigs(
    topics: readonly string[],
    keys: readonly string[],
  ): Promise<Map<string, Record<string, string>>> {
    const what = `describing the configs of ${topics.join(', ')}`
    const described = await this.#connection.retry(what, () =>
      this.#admin
        .describeConfigs({
          resources: topics.map((name) => ({
            resourceType: 2,
            resourceName: name,
            configurationKeys: [...keys],
          })),
        })
        .catch((error: unknown) => {
          throw this.#connection.failure(what, error)
        }),
    )
    const result = new Map<string, Record<string, string>>()
    for (const resource of described) {
      const configs: Record<string, string> = {}
      for (const config of resource.configs)
        if (typeof config.value === 'string') configs[config.name] = config.value
      result.set(resource.resourceName, configs)
    }
    return result
  }

  /** Creates topics and waits until every partition has a leader. */
  async createTopics(topics: readonly NewTopic[]): Promise<void> {
    for (const topic of topics) {
      const what = `creating topic '${topic.name}'`
      await this.#connection.retry(what, async (attempt) => {
        try {
          await this.#admin.createTopics({
            topics: [topic.name],
            partitions: topic.partitions ?? 1,
            replicas: topic.replicationFactor ?? 1,
            configs: Object.entries(topic.configs ?? {}).map(([name, value]) => ({ name, value })),
          })
        } catch (error) {
          if (attempt > 1 && hasProtocolError(error, alreadyExists)) return
          throw this.#connection.failure(what, error, { topic: topic.name })
        }
      })
    }
    await this.#waitForLeaders(topics.map((t) => ({ name: t.name, partitions: t.partitions ?? 1 })))
  }

  async deleteTopics(names: readonly string[]): Promise<void> {
    if (names.length === 0) return
    const what = `deleting topics ${names.join(', ')}`
    await this.#connection.retry(what, async (attempt) => {
      try {
        await this.#admin.deleteTopics({ topics: [...names] })
      } catch (error) {
        if (!hasProtocolError(error, unknownTopic)) throw this.#connection.failure(what, error)
        if (attempt > 1) return
        throw new SluiceError(
          ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION,
          `${what} failed: a topic does not exist`,
          {
            cause: error,
            details: { topics: [...names] },
          },
        )
      }
    })
  }

  /** Grows a topic to `totalPartitions` partitions. */
  async createPartitions(topic: string, totalPartitions: number): Promise<void> {
    const what = `growing topic '${topic}' to ${totalPartitions} partitions`
    await this.#connection.retry(what, async (attempt) => {
      try {
        await this.#admin.createPartitions({ topics: [{ name: topic, count: totalPartitions }] })
      } catch (error) {
        if (attempt > 1 && hasProtocolError(error, invalidPartitions)) {
          const cluster = await this.#cluster.describe([topic], true)
          if ((cluster.topics.get(topic)?.partitions.length ?? 0) >= totalPartitions) return
        }
        throw this.#connection.failure(what, error, { topic })
      }
    })
    await this.#waitForLeaders([{ name: topic, partitions: totalPartitions }])
  }

  /** Moves each partition's log start offset forward, as retention would. */
  async deleteRecords(before: readonly PartitionOffset[]): Promise<void> {
    const topics = new Map<string, { partition: number; offset: bigint }[]>()
    for (const p of before) {
      const list = topics.get(p.topic) ?? []
      list.push({ partition: p.partition, offset: p.offset })
      topics.set(p.topic, list)
    }
    await this.#connection.retry('deleting records', () =>
      this.#admin
        .deleteRecords({ topics: [...topics].map(([name, partitions]) => ({ name, partitions })) })
        .then(
          () => undefined,
          (error: unknown) => {
            throw this.#connection.failure('deleting records', error)
          },
        ),
    )
  }

  async #waitForLeaders(topics: readonly { name: string; partitions: number }[]): Promise<void> {
    const timeoutMs = this.#connection.options.retryTimeoutMs
    const deadline = Date.now() + timeoutMs
    for (;;) {
      try {
        const cluster = await this.#cluster.metadata(
          topics.map((t) => t.name),
          { refresh: true },
        )
        const ready = topics.every((t) => {
          const info = cluster.topics.get(t.name)
          return (
            info !== undefined &&
            info.partitions.length >= t.partitions &&
            info.partitions.every((p) => p.leader >= 0)
          )
        })
        if (ready) return
      } catch (error) {
        if (!(error instanceof SluiceError && error.code === ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION))
          throw error
      }
      if (Date.now() > deadline) {
        throw new SluiceError(
          ErrorCodes.KAFKA,
          `partitions of ${topics.map((t) => t.name).join(', ')} got no leader within ${timeoutMs} ms`,
          { retriable: true },
        )
      }
      await sleep(100)
    }
  }
}
