import { Activity } from './activity.ts'
import { Cluster } from './cluster.ts'
import { GroupOffsets } from './group-offsets.ts'
import { KafkaConnection } from './kafka-connection.ts'
import { OffsetLookup } from './offset-lookup.ts'
import { type KafkaClientOptions, type ResolvedClientOptions, resolveClientOptions } from './options.ts'
import { PartitionFetcher } from './partition-fetcher.ts'
import { RecordProducer } from './producer.ts'
import { TopicAdmin } from './topic-admin.ts'
import type {
  ClusterInfo,
  CommittedOffset,
  FetchRequest,
  FetchResult,
  GroupState,
  NewTopic,
  OffsetSpec,
  PartitionOffset,
  ProduceRecord,
  TopicPartition,
  TransactionState,
} from './types.ts'

/**
 * sluice's view of one Kafka cluster: a facade over the boundary's modules, which share one
 * wire connection and one retry policy.
 * - read path (`cluster.ts`, `offset-lookup.ts`, `partition-fetcher.ts`): metadata, topic
 *   listing, ListOffsets, fetch — every call retried until `retryTimeoutMs`;
 * - admin (`topic-admin.ts`): topics, configs, records deletion;
 * - group offsets (`group-offsets.ts`): read and commit without membership;
 * - produce (`producer.ts`); transactions live in `transactions.ts` with their own producer.
 * Everything above `src/kafka/` reaches Kafka through here; @platformatic/kafka stays behind it.
 */
export class KafkaClient {
  readonly options: ResolvedClientOptions
  readonly #connection: KafkaConnection
  readonly #cluster: Cluster
  readonly #offsets: OffsetLookup
  readonly #fetcher: PartitionFetcher
  readonly #topics: TopicAdmin
  readonly #groups: GroupOffsets
  readonly #producer: RecordProducer
  readonly #activity: Activity

  constructor(options: KafkaClientOptions) {
    this.options = resolveClientOptions(options)
    this.#connection = new KafkaConnection(this.options)
    this.#cluster = new Cluster(this.#connection)
    this.#offsets = new OffsetLookup(this.#connection, this.#cluster)
    this.#fetcher = new PartitionFetcher(this.#connection, this.#cluster)
    this.#topics = new TopicAdmin(this.#connection, this.#cluster)
    this.#groups = new GroupOffsets(this.#connection)
    this.#producer = new RecordProducer(this.#connection, this.#cluster)
    this.#activity = new Activity(this.#connection)
  }

  /** The bootstrap brokers. */
  get brokers(): readonly string[] {
    return this.options.brokers
  }

  // ---- read path ----

  /** Metadata for the given topics, or every non-internal topic when none are given. */
  metadata(topics?: readonly string[], options: { refresh?: boolean } = {}): Promise<ClusterInfo> {
    return this.#cluster.metadata(topics, options)
  }

  /** Every non-internal topic, sorted. */
  listTopics(): Promise<string[]> {
    return this.#cluster.listTopics()
  }

  /** Looks up one offset per partition; results come back in request order. */
  listOffsets(partitions: readonly TopicPartition[], spec: OffsetSpec): Promise<PartitionOffset[]> {
    return this.#offsets.listOffsets(partitions, spec)
  }

  /**
   * One fetch of one partition from its leader, starting at `offset`. Returns whole record
   * batches as the broker stores them (the first may start below `offset`), plus the
   * partition's watermarks and, under read_committed, the aborted transactions in range.
   * Retried like every read-path call. The raw read under sluice's own record decoder: not
   * part of 'sluice/admin'.
   * @internal
   */
  fetch(request: FetchRequest): Promise<FetchResult> {
    return this.#fetcher.fetch(request)
  }

  // ---- group offsets ----

  /**
   * Offsets committed by a consumer group, with their metadata; partitions without a commit
   * are left out. Without `partitions`, every partition the group has committed. With
   * `requireStable`, offsets that a still-open transaction is committing are waited for
   * (KIP-447) instead of read stale — what the transactional sink needs before deciding
   * whether a batch was written.
   */
  groupOffsets(
    groupId: string,
    partitions?: readonly TopicPartition[],
    options: { requireStable?: boolean } = {},
  ): Promise<CommittedOffset[]> {
    return this.#groups.groupOffsets(groupId, partitions, options)
  }

  /** Commits offsets to a group without joining it, for lag tools; never used for recovery. */
  commitGroupOffsets(groupId: string, offsets: readonly PartitionOffset[]): Promise<void> {
    return this.#groups.commitGroupOffsets(groupId, offsets)
  }

  /** A consumer group's state and how many members it has. */
  groupState(groupId: string): Promise<GroupState> {
    return this.#activity.groupState(groupId)
  }

  /** The state of a transactional id's current or last transaction; undefined when it was never used. */
  transactionState(transactionalId: string): Promise<TransactionState | undefined> {
    return this.#activity.transactionState(transactionalId)
  }

  // ---- produce and admin ----

  /**
   * Produces records and waits for all in-sync replicas; returns each partition's base offset.
   * Idempotent, so a request the wire client retries never writes a partition twice.
   */
  produce(records: readonly ProduceRecord[]): Promise<PartitionOffset[]> {
    return this.#producer.produce(records)
  }

  /** Selected topic-level configs (e.g. `cleanup.policy`) of each topic, by topic name. */
  topicConfigs(
    topics: readonly string[],
    keys: readonly string[],
  ): Promise<Map<string, Record<string, string>>> {
    return this.#topics.topicConfigs(topics, keys)
  }

  /** Creates topics and waits until every partition has a leader. */
  createTopics(topics: readonly NewTopic[]): Promise<void> {
    return this.#topics.createTopics(topics)
  }

  /** Deletes topics. */
  deleteTopics(names: readonly string[]): Promise<void> {
    return this.#topics.deleteTopics(names)
  }

  /** Grows a topic to `totalPartitions` partitions. */
  createPartitions(topic: string, totalPartitions: number): Promise<void> {
    return this.#topics.createPartitions(topic, totalPartitions)
  }

  /** Moves each partition's log start offset forward, as retention would. */
  deleteRecords(before: readonly PartitionOffset[]): Promise<void> {
    return this.#topics.deleteRecords(before)
  }

  /** Closes every connection; later calls fail with SLUICE_CLOSED. */
  async close(): Promise<void> {
    if (this.#connection.closed) return
    const results = await Promise.allSettled([
      this.#connection.close(),
      this.#producer.close(),
      this.#fetcher.close(),
    ])
    for (const result of results) {
      if (result.status === 'rejected')
        this.#connection.logger.warn('closing a Kafka connection failed', { error: result.reason })
    }
  }
}
