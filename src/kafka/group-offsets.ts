import type { Admin } from '@platformatic/kafka'
import type { KafkaConnection } from './kafka-connection.ts'
import type { CommittedOffset, PartitionOffset, TopicPartition } from './types.ts'

/**
 * A consumer group's committed offsets, read and written without joining the group. The
 * direct stream commits them for lag tools only; the Kafka sink reads them to decide whether
 * a batch was written. Group membership (join, heartbeat, assignment) is a separate concern
 * and belongs in its own module beside this one (`group-membership.ts`).
 */
export class GroupOffsets {
  readonly #connection: KafkaConnection

  constructor(connection: KafkaConnection) {
    this.#connection = connection
  }

  get #admin(): Admin {
    this.#connection.checkOpen()
    return this.#connection.admin
  }

  /**
   * Commits offsets to a consumer group without joining it (the group must have no live
   * members). sluice uses this only so lag tools can see progress, never for recovery.
   */
  async commitGroupOffsets(groupId: string, offsets: readonly PartitionOffset[]): Promise<void> {
    const topics = new Map<string, { partition: number; offset: bigint }[]>()
    for (const o of offsets) {
      const list = topics.get(o.topic) ?? []
      list.push({ partition: o.partition, offset: o.offset })
      topics.set(o.topic, list)
    }
    const what = `committing offsets of group '${groupId}'`
    await this.#connection.retry(what, async () => {
      try {
        await this.#admin.alterConsumerGroupOffsets({
          groupId,
          topics: [...topics].map(([name, partitionOffsets]) => ({ name, partitionOffsets })),
        })
      } catch (error) {
        throw this.#connection.failure(what, error, { groupId })
      }
    })
  }

  /**
   * Offsets committed by a consumer group, with the metadata string committed along with
   * each; partitions without a commit are left out. Without
   * `partitions`, every partition the group has committed. With `requireStable`, offsets
   * that a still-open transaction is committing are waited for (KIP-447) instead of read
   * stale — what the transactional sink needs before deciding whether a batch was written.
   * Retried like every read-path call: a coordinator moving or a broker restarting
   * (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS, connection failures) is waited out, as is
   * UNSTABLE_OFFSET_COMMIT.
   */
  async groupOffsets(
    groupId: string,
    partitions?: readonly TopicPartition[],
    options: { requireStable?: boolean } = {},
  ): Promise<CommittedOffset[]> {
    const topics = new Map<string, number[]>()
    for (const p of partitions ?? []) topics.set(p.topic, [...(topics.get(p.topic) ?? []), p.partition])
    const group =
      partitions === undefined
        ? groupId
        : { groupId, topics: [...topics].map(([name, list]) => ({ name, partitionIndexes: list })) }
    const what = `reading offsets of group '${groupId}'`
    return this.#connection.retry(what, async () => {
      let groups: Awaited<ReturnType<Admin['listConsumerGroupOffsets']>>
      try {
        groups = await this.#admin.listConsumerGroupOffsets({
          groups: [group],
          requireStable: options.requireStable ?? false,
        })
      } catch (error) {
        throw this.#connection.failure(what, error, { groupId })
      }
      const result: CommittedOffset[] = []
      for (const found of groups) {
        for (const topic of found.topics) {
          for (const p of topic.partitions) {
            if (p.committedOffset >= 0n) {
              const offset = { topic: topic.name, partition: p.partitionIndex, offset: p.committedOffset }
              result.push(p.metadata ? { ...offset, metadata: p.metadata } : offset)
            }
          }
        }
      }
      return result
    })
  }
}
