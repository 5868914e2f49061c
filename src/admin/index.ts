/// <reference types="node" preserve="true" />
/**
 * 'sluice/admin': sluice's own Kafka client, for tools, tests and examples that talk to a
 * cluster directly — create and delete topics, produce records, read offsets and group
 * offsets. A streaming application needs none of it: 'sluice' reads Kafka through
 * `createDirectStream` and `createRDD`, and writes through the sinks.
 */

// First, so that an unsupported Node.js is named before any other module of sluice runs.
import '../core/node-version.ts'

export { KafkaClient } from '../kafka/client.ts'
export type { KafkaClientOptions } from '../kafka/options.ts'
export type {
  BrokerInfo,
  ClusterInfo,
  NewTopic,
  OffsetSpec,
  PartitionInfo,
  PartitionOffset,
  ProduceRecord,
  TopicInfo,
  TopicPartition,
} from '../kafka/types.ts'
