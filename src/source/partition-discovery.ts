import { ErrorCodes, invalidOption, SluiceError } from '../core/errors.ts'
import {
  arrayOption,
  instanceOption,
  integerOption,
  MAX_INT32,
  type OptionType,
  optionPath,
  optionsObject,
  required,
  stringOption,
} from '../core/options.ts'
import { partitionKey } from '../core/partition-key.ts'
import type { KafkaClient } from '../kafka/client.ts'
import type { TopicPartition } from '../kafka/types.ts'

/**
 * How a direct stream finds its partitions each batch (Spark's consumer strategies):
 * a fixed topic list, a topic name pattern, or explicit partitions. Topics and partitions
 * created while the stream runs are picked up by the next batch for the first two.
 */
export interface PartitionDiscovery {
  /** Human description for messages, e.g. "subscribe [words]". */
  readonly description: string
  /** Whether a topic-partition belongs to this stream (for checkpoint attribution). */
  owns(topic: string, partition: number): boolean
  /** The stream's partitions now, sorted by topic then partition. */
  discover(client: KafkaClient): Promise<TopicPartition[]>
}

/** Which partitions a direct stream reads: exactly one of `subscribe`, `subscribePattern` or `assign`. */
export interface SubscriptionOptions {
  readonly subscribe?: readonly string[]
  readonly subscribePattern?: RegExp
  readonly assign?: readonly TopicPartition[]
}

const topicName = stringOption({ expected: 'a topic name' })

/** The schema fields of SubscriptionOptions; exactly one of them is given (`checkSubscription`). */
export const subscriptionOptionFields = {
  subscribe: arrayOption(topicName, { nonEmpty: true, expected: 'a non-empty array of topic names' }),
  subscribePattern: instanceOption(RegExp, 'a RegExp'),
  assign: arrayOption(
    optionsObject({
      topic: required(topicName),
      partition: required(integerOption({ min: 0, max: MAX_INT32 })),
    }) as OptionType<TopicPartition>,
    { nonEmpty: true, expected: 'a non-empty array of { topic, partition }' },
  ),
}

const subscriptionKeys = ['subscribe', 'subscribePattern', 'assign'] as const

/** Refuses options that give none, or more than one, of subscribe, subscribePattern and assign. */
export function checkSubscription(options: SubscriptionOptions, path = ''): void {
  const given = subscriptionKeys.filter((k) => options[k] !== undefined)
  if (given.length !== 1) {
    throw invalidOption(
      optionPath(path, given[1] ?? 'subscribe'),
      given.length === 0
        ? "is required: give exactly one of 'subscribe', 'subscribePattern' or 'assign'"
        : `cannot be combined with '${given[0]}': give exactly one of 'subscribe', 'subscribePattern' or 'assign'`,
    )
  }
}

/** The discovery for checked subscription options. */
export function resolveDiscovery(options: SubscriptionOptions): PartitionDiscovery {
  checkSubscription(options)
  if (options.subscribe !== undefined) return subscribe(options.subscribe)
  if (options.subscribePattern !== undefined) return subscribePattern(options.subscribePattern)
  return assign(options.assign!)
}

function subscribe(topics: readonly string[]): PartitionDiscovery {
  const names = [...new Set(topics)].sort()
  const set = new Set(names)
  return {
    description: `subscribe [${names.join(', ')}]`,
    owns: (topic) => set.has(topic),
    async discover(client) {
      const cluster = await client.metadata(names, { refresh: true })
      return allPartitions(cluster.topics, names)
    },
  }
}

function subscribePattern(pattern: RegExp): PartitionDiscovery {
  // A global or sticky RegExp keeps lastIndex between test() calls; matching must not depend on it.
  const matcher = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''))
  const matches = (topic: string) => matcher.test(topic) && !topic.startsWith('__')
  return {
    description: `subscribePattern ${pattern}`,
    owns: (topic) => matches(topic),
    async discover(client) {
      const names = (await client.listTopics()).filter(matches)
      if (names.length === 0) return []
      const cluster = await client.metadata(names, { refresh: true })
      return allPartitions(cluster.topics, names)
    },
  }
}

function assign(partitions: readonly TopicPartition[]): PartitionDiscovery {
  const keys = new Set(partitions.map((p) => partitionKey(p.topic, p.partition)))
  const sorted = [
    ...new Map(
      partitions.map((p) => [partitionKey(p.topic, p.partition), { topic: p.topic, partition: p.partition }]),
    ).values(),
  ].sort(byTopicPartition)
  return {
    description: `assign [${sorted.map((p) => `${p.topic}-${p.partition}`).join(', ')}]`,
    owns: (topic, partition) => keys.has(partitionKey(topic, partition)),
    async discover(client) {
      const topics = [...new Set(sorted.map((p) => p.topic))]
      const cluster = await client.metadata(topics, { refresh: true })
      for (const p of sorted) {
        const count = cluster.topics.get(p.topic)?.partitions.length ?? 0
        if (p.partition >= count) {
          throw new SluiceError(
            ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION,
            `assigned partition ${p.topic}-${p.partition} does not exist (the topic has ${count})`,
            { details: { topic: p.topic, partition: p.partition } },
          )
        }
      }
      return sorted
    },
  }
}

function allPartitions(
  topics: ReadonlyMap<string, { partitions: readonly unknown[] }>,
  names: readonly string[],
) {
  const result: TopicPartition[] = []
  for (const topic of names) {
    const count = topics.get(topic)?.partitions.length ?? 0
    for (let partition = 0; partition < count; partition++) result.push({ topic, partition })
  }
  return result.sort(byTopicPartition)
}

export function byTopicPartition(a: TopicPartition, b: TopicPartition): number {
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition
}
