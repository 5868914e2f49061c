// The vocabulary of the Kafka boundary. These types are sluice's own: nothing above
// `src/kafka/` sees @platformatic/kafka's types, so the wire client can be swapped.

/** A partition of a topic. */
export interface TopicPartition {
  readonly topic: string
  readonly partition: number
}

/** A partition's leader and replicas. */
export interface PartitionInfo {
  readonly partition: number
  /** Node id of the leader, -1 when there is none (election under way). */
  readonly leader: number
  readonly leaderEpoch: number
  readonly replicas: readonly number[]
  readonly isr: readonly number[]
}

/** A topic and its partitions. */
export interface TopicInfo {
  readonly name: string
  readonly id: string
  readonly partitions: readonly PartitionInfo[]
}

/** A broker of the cluster: its node id and address. */
export interface BrokerInfo {
  readonly nodeId: number
  readonly host: string
  readonly port: number
}

/** What a metadata request tells about the cluster: its brokers and the requested topics' partitions. */
export interface ClusterInfo {
  readonly clusterId: string
  readonly brokers: ReadonlyMap<number, BrokerInfo>
  readonly topics: ReadonlyMap<string, TopicInfo>
}

/** How reads treat transactions: 'read_committed' hides aborted ones and stops at the last stable offset; 'read_uncommitted' reads everything. */
export type IsolationLevel = 'read_committed' | 'read_uncommitted'

/**
 * Which offset to look up: the log start, the log end (high watermark), the last stable
 * offset (end of what read_committed consumers may see), or the first offset whose record
 * timestamp is at or after `timestamp` (ms since epoch; the log end when there is none).
 */
export type OffsetSpec = 'earliest' | 'latest' | 'lastStable' | { readonly timestamp: number }

/** An offset of one partition. */
export interface PartitionOffset extends TopicPartition {
  readonly offset: bigint
}

/** A consumer group's offset of a partition with the metadata string committed along with it. */
export interface CommittedOffset extends PartitionOffset {
  /** Free text kept with the offset (Kafka's OffsetAndMetadata); empty or absent when none was committed. */
  readonly metadata?: string
}

export interface AbortedTransaction {
  readonly producerId: bigint
  readonly firstOffset: bigint
}

export interface FetchRequest extends TopicPartition {
  readonly offset: bigint
  /** Upper bound for the bytes returned (the broker still returns one whole batch if it is larger). */
  readonly maxBytes: number
  readonly isolationLevel: IsolationLevel
  /** How long the broker may wait for data when there is none at `offset` yet. */
  readonly maxWaitMs?: number
  readonly signal?: AbortSignal
}

export interface FetchResult extends TopicPartition {
  readonly highWatermark: bigint
  readonly lastStableOffset: bigint
  readonly logStartOffset: bigint
  /** The fetched record batches, still encoded; `decodeFetch` turns them into records. */
  readonly recordSet: Buffer | null
  /** Transactions aborted in the fetched range (read_committed only); filter them yourself. */
  readonly abortedTransactions: readonly AbortedTransaction[]
}

/** A record to produce: its topic and value, and optionally its partition, key, headers and timestamp. */
export interface ProduceRecord {
  readonly topic: string
  readonly partition?: number
  readonly key?: Buffer | string | null
  readonly value: Buffer | string | null
  /** Names may repeat; a null value is a header without a value. */
  readonly headers?: ReadonlyArray<readonly [string, Buffer | string | null]>
  /** ms since epoch; the producer's clock when omitted. */
  readonly timestamp?: number
}

/** A topic to create: its name, and optionally its partition count, replication factor and configs. */
export interface NewTopic {
  readonly name: string
  readonly partitions?: number
  readonly replicationFactor?: number
  /** Topic-level configs, e.g. `{ 'cleanup.policy': 'compact' }`. */
  readonly configs?: Readonly<Record<string, string>>
}

/** Batch attribute bits (Kafka record batch v2). */
export const BatchAttributes = {
  COMPRESSION_MASK: 0x07,
  LOG_APPEND_TIME: 0x08,
  TRANSACTIONAL: 0x10,
  CONTROL: 0x20,
} as const

/** A consumer group as its coordinator sees it. */
export interface GroupState {
  /** 'Empty', 'Stable', 'PreparingRebalance', 'Dead' (never used)... */
  readonly state: string
  /** Live members: consumers that joined the group. */
  readonly members: number
}

/** A transactional id as its coordinator sees it. */
export interface TransactionState {
  /** 'Empty', 'Ongoing', 'PrepareCommit', 'PrepareAbort', 'CompleteCommit', 'CompleteAbort'... */
  readonly state: string
  readonly producerId: bigint
  readonly producerEpoch: number
}
