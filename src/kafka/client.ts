import { setTimeout as sleep } from 'node:timers/promises'
import {
  Admin,
  type ClusterMetadata,
  ConnectionPool,
  kGetApi,
  type listOffsetsV9,
  Producer,
} from '@platformatic/kafka'
import { ErrorCodes, messageOf, SluiceError } from '../core/errors.ts'
import type { Logger } from '../core/logger.ts'
import { type FetchEvent, fetchChannel } from './diagnostics.ts'
import { describeProtocolError, kafkaError } from './errors.ts'
import { fetchApi, minFetchVersion } from './fetch-response.ts'
import {
  type KafkaClientOptions,
  type ResolvedClientOptions,
  resolveClientOptions,
  wireClientOptions,
} from './options.ts'
import { retryKafka } from './retry.ts'
import type {
  BrokerInfo,
  ClusterInfo,
  CommittedOffset,
  FetchRequest,
  FetchResult,
  NewTopic,
  OffsetSpec,
  PartitionInfo,
  PartitionOffset,
  ProduceRecord,
  TopicInfo,
  TopicPartition,
} from './types.ts'

// biome-ignore lint/suspicious/noExplicitAny: the wire client's low-level API functions are variadic
export type LowLevelApi = { version: number; async: (connection: unknown, ...args: any[]) => Promise<any> }

/** Fetches spread over a few connections per broker so partitions do not queue behind each other. */
const fetchConnectionSlots = 4
const noSessionId = 0
/** Fetch session epoch -1 asks for a full, sessionless fetch (KIP-227). */
const sessionlessEpoch = -1

/**
 * sluice's narrow view of a Kafka cluster: metadata, offsets, single-partition fetches
 * from the leader, produce and topic administration. Everything the engine needs from
 * Kafka goes through here; @platformatic/kafka stays behind it.
 */
export class KafkaClient {
  readonly options: ResolvedClientOptions
  readonly #admin: Admin
  readonly #logger: Logger
  readonly #fetchPools: (ConnectionPool | undefined)[] = new Array(fetchConnectionSlots)
  #producer: Producer | undefined
  #fetchVersionFound: Promise<number> | undefined
  #closed = false

  constructor(options: KafkaClientOptions) {
    this.options = resolveClientOptions(options)
    this.#logger = this.options.logger.child({ component: 'kafka' })
    this.#admin = new Admin(wireClientOptions(this.options, 'admin'))
  }

  get brokers(): readonly string[] {
    return this.options.brokers
  }

  /** Metadata for the given topics, or every non-internal topic when none are given. */
  async metadata(topics?: readonly string[], options: { refresh?: boolean } = {}): Promise<ClusterInfo> {
    this.#checkOpen()
    const names = topics === undefined ? await this.listTopics() : [...topics]
    const raw = await this.#rawMetadata(names, options.refresh ?? false)
    return toClusterInfo(raw, names)
  }

  async listTopics(): Promise<string[]> {
    this.#checkOpen()
    try {
      return (await this.#admin.listTopics({ includeInternals: false })).sort()
    } catch (error) {
      throw kafkaError('listing topics', error)
    }
  }

  /** Looks up one offset per partition; results come back in request order. */
  async listOffsets(partitions: readonly TopicPartition[], spec: OffsetSpec): Promise<PartitionOffset[]> {
    this.#checkOpen()
    if (partitions.length === 0) return []
    const timestamp = specTimestamp(spec)
    const isolationLevel = spec === 'lastStable' ? 1 : 0
    let refresh = false
    const found = await retryKafka(
      `listing ${describeSpec(spec)} offsets`,
      async () => {
        const cluster = await this.metadata(uniqueTopics(partitions), { refresh })
        refresh = false
        const byLeader = groupByLeader(cluster, partitions)
        const api = await this.#api('ListOffsets')
        const results = new Map<string, bigint>()
        for (const [leader, topics] of byLeader) {
          const connection = await this.#adminConnection(cluster, leader)
          const request = [...topics].map(([name, list]) => ({
            name,
            partitions: list.map((p) => ({
              partitionIndex: p.partition,
              currentLeaderEpoch: p.leaderEpoch,
              timestamp,
            })),
          }))
          const response = await callAllowingPartitionErrors<listOffsetsV9.ListOffsetsResponse>(() =>
            api.async(connection, -1, isolationLevel, request),
          )
          for (const topic of response.topics) {
            for (const p of topic.partitions) {
              if (p.errorCode !== 0)
                throw partitionError('listing offsets', topic.name, p.partitionIndex, p.errorCode)
              results.set(`${topic.name}:${p.partitionIndex}`, p.offset)
            }
          }
        }
        return results
      },
      {
        timeoutMs: this.options.retryTimeoutMs,
        beforeRetry: () => {
          refresh = true
        },
      },
    )
    const offsets = partitions.map((p) => ({ ...p, offset: found.get(`${p.topic}:${p.partition}`) ?? -1n }))
    // A timestamp after the last record has no offset (-1): start from the log end instead.
    const missing = offsets.filter((o) => o.offset < 0n)
    if (missing.length === 0) return offsets
    const ends = await this.listOffsets(missing, 'latest')
    const endOf = new Map(ends.map((e) => [`${e.topic}:${e.partition}`, e.offset]))
    return offsets.map((o) => (o.offset < 0n ? { ...o, offset: endOf.get(`${o.topic}:${o.partition}`)! } : o))
  }

  /**
   * One fetch of one partition from its leader, starting at `offset`. Returns whole record
   * batches as the broker stores them (the first may start below `offset`), plus the
   * partition's watermarks and, under read_committed, the aborted transactions in range.
   * Leader moves and connection failures are retried within `retryTimeoutMs`. The raw read
   * under sluice's own record decoder: not part of 'sluice/admin'.
   * @internal
   */
  async fetch(request: FetchRequest): Promise<FetchResult> {
    this.#checkOpen()
    const { topic, partition, offset } = request
    const slot = slotOf(topic, partition)
    let refresh = false
    return retryKafka(
      `fetch of ${topic}-${partition} at offset ${offset}`,
      async () => {
        const cluster = await this.metadata([topic], { refresh })
        refresh = false
        const { info, leader } = requireLeader(cluster, topic, partition)
        const api = fetchApi(await this.#fetchVersion())
        if (fetchChannel.hasSubscribers) {
          fetchChannel.publish({ topic, partition, offset, maxBytes: request.maxBytes } satisfies FetchEvent)
        }
        const connection = await this.#fetchPool(slot).get({ host: leader.host, port: leader.port })
        const topicRef = api.version >= 13 ? cluster.topics.get(topic)!.id : topic
        const partitions = [
          {
            partition,
            currentLeaderEpoch: info.leaderEpoch,
            fetchOffset: offset,
            lastFetchedEpoch: -1,
            partitionMaxBytes: request.maxBytes,
          },
        ]
        const response = await api.async(
          connection,
          request.maxWaitMs ?? 0,
          1,
          request.maxBytes,
          request.isolationLevel === 'read_committed' ? 1 : 0,
          noSessionId,
          sessionlessEpoch,
          [{ topicId: topicRef, partitions }],
          [],
          '',
        )
        if (response.errorCode !== 0) throw partitionError('fetch', topic, partition, response.errorCode)
        const data = response.topics[0]?.partitions[0]
        if (data === undefined) {
          throw new SluiceError(
            ErrorCodes.KAFKA,
            `fetch of ${topic}-${partition} returned no partition data`,
            {
              retriable: true,
            },
          )
        }
        if (data.errorCode !== 0) throw partitionError('fetch', topic, partition, data.errorCode, offset)
        return {
          topic,
          partition,
          highWatermark: data.highWatermark,
          lastStableOffset: data.lastStableOffset,
          logStartOffset: data.logStartOffset,
          recordSet: data.records,
          abortedTransactions: data.abortedTransactions,
        }
      },
      {
        timeoutMs: this.options.retryTimeoutMs,
        signal: request.signal,
        beforeRetry: (error) => {
          refresh = true
          if (!(error instanceof SluiceError)) this.#dropFetchPool(slot)
        },
      },
    )
  }

  /**
   * Produces records and waits for all in-sync replicas; returns each partition's base offset.
   * The producer is idempotent: the wire client retries a whole request when one partition
   * in it fails (common right after a topic is created), and only idempotence keeps the
   * partitions that already succeeded from being written twice.
   */
  async produce(records: readonly ProduceRecord[]): Promise<PartitionOffset[]> {
    this.#checkOpen()
    if (records.length === 0) return []
    this.#producer ??= new Producer({
      ...wireClientOptions(this.options, 'producer'),
      acks: -1,
      idempotent: true,
    })
    await this.#checkExplicitPartitions(records, this.#producer)
    try {
      const result = await this.#producer.send({ messages: records.map(toWireMessage), acks: -1 })
      return (result.offsets ?? []).map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset }))
    } catch (error) {
      throw kafkaError(`producing ${records.length} records`, error)
    }
  }

  /**
   * The wire client maps an explicit partition it does not know onto `partition % count`
   * using its cached metadata, so a record for a freshly added partition would land in
   * another one. Check explicit partitions against metadata (refreshed when they look new)
   * and make the producer forget stale metadata before it sends.
   */
  async #checkExplicitPartitions(records: readonly ProduceRecord[], producer: Producer): Promise<void> {
    const highest = new Map<string, number>()
    for (const r of records) {
      if (r.partition !== undefined && r.partition > (highest.get(r.topic) ?? -1))
        highest.set(r.topic, r.partition)
    }
    if (highest.size === 0) return
    const topics = [...highest.keys()]
    const fits = (cluster: ClusterInfo) =>
      topics.every((t) => (cluster.topics.get(t)?.partitions.length ?? 0) > highest.get(t)!)
    let cluster = await this.metadata(topics)
    if (!fits(cluster)) cluster = await this.metadata(topics, { refresh: true })
    for (const topic of topics) {
      const count = cluster.topics.get(topic)?.partitions.length ?? 0
      if (count <= highest.get(topic)!) {
        throw new SluiceError(
          ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION,
          `cannot produce to partition ${highest.get(topic)} of topic '${topic}': it has ${count} partitions`,
          { details: { topic, partition: highest.get(topic) } },
        )
      }
      const cached = producer.currentMetadata?.topics.get(topic)?.partitionsCount
      if (cached !== undefined && cached !== count) producer.clearMetadata()
    }
  }

  /** Selected topic-level configs (e.g. `cleanup.policy`) of each topic, by topic name. */
  async topicConfigs(
    topics: readonly string[],
    keys: readonly string[],
  ): Promise<Map<string, Record<string, string>>> {
    this.#checkOpen()
    try {
      const described = await this.#admin.describeConfigs({
        resources: topics.map((name) => ({
          resourceType: 2,
          resourceName: name,
          configurationKeys: [...keys],
        })),
      })
      const result = new Map<string, Record<string, string>>()
      for (const resource of described) {
        const configs: Record<string, string> = {}
        for (const config of resource.configs)
          if (typeof config.value === 'string') configs[config.name] = config.value
        result.set(resource.resourceName, configs)
      }
      return result
    } catch (error) {
      throw kafkaError(`describing the configs of ${topics.join(', ')}`, error)
    }
  }

  /** Creates topics and waits until every partition has a leader. */
  async createTopics(topics: readonly NewTopic[]): Promise<void> {
    this.#checkOpen()
    for (const topic of topics) {
      try {
        await this.#admin.createTopics({
          topics: [topic.name],
          partitions: topic.partitions ?? 1,
          replicas: topic.replicationFactor ?? 1,
          configs: Object.entries(topic.configs ?? {}).map(([name, value]) => ({ name, value })),
        })
      } catch (error) {
        throw kafkaError(`creating topic '${topic.name}'`, error, { topic: topic.name })
      }
    }
    await this.#waitForLeaders(topics.map((t) => ({ name: t.name, partitions: t.partitions ?? 1 })))
  }

  async deleteTopics(names: readonly string[]): Promise<void> {
    this.#checkOpen()
    if (names.length === 0) return
    try {
      await this.#admin.deleteTopics({ topics: [...names] })
    } catch (error) {
      throw kafkaError(`deleting topics ${names.join(', ')}`, error)
    }
  }

  /** Grows a topic to `totalPartitions` partitions. */
  async createPartitions(topic: string, totalPartitions: number): Promise<void> {
    this.#checkOpen()
    try {
      await this.#admin.createPartitions({ topics: [{ name: topic, count: totalPartitions }] })
    } catch (error) {
      throw kafkaError(`growing topic '${topic}' to ${totalPartitions} partitions`, error, { topic })
    }
    await this.#waitForLeaders([{ name: topic, partitions: totalPartitions }])
  }

  /** Moves each partition's log start offset forward, as retention would. */
  async deleteRecords(before: readonly PartitionOffset[]): Promise<void> {
    this.#checkOpen()
    const topics = new Map<string, { partition: number; offset: bigint }[]>()
    for (const p of before) {
      const list = topics.get(p.topic) ?? []
      list.push({ partition: p.partition, offset: p.offset })
      topics.set(p.topic, list)
    }
    try {
      await this.#admin.deleteRecords({
        topics: [...topics].map(([name, partitions]) => ({ name, partitions })),
      })
    } catch (error) {
      throw kafkaError('deleting records', error)
    }
  }

  /**
   * Commits offsets to a consumer group without joining it (the group must have no live
   * members). sluice uses this only so lag tools can see progress, never for recovery.
   */
  async commitGroupOffsets(groupId: string, offsets: readonly PartitionOffset[]): Promise<void> {
    this.#checkOpen()
    const topics = new Map<string, { partition: number; offset: bigint }[]>()
    for (const o of offsets) {
      const list = topics.get(o.topic) ?? []
      list.push({ partition: o.partition, offset: o.offset })
      topics.set(o.topic, list)
    }
    try {
      await this.#admin.alterConsumerGroupOffsets({
        groupId,
        topics: [...topics].map(([name, partitionOffsets]) => ({ name, partitionOffsets })),
      })
    } catch (error) {
      throw kafkaError(`committing offsets of group '${groupId}'`, error, { groupId })
    }
  }

  /**
   * Offsets committed by a consumer group; partitions without a commit are left out. Without
   * `partitions`, every partition the group has committed. With `requireStable`, offsets
   * that a still-open transaction is committing are waited for (KIP-447) instead of read
   * stale — what the transactional sink needs before deciding whether a batch was written.
   */
  async groupOffsets(
    groupId: string,
    partitions?: readonly TopicPartition[],
    options: { requireStable?: boolean } = {},
  ): Promise<CommittedOffset[]> {
    this.#checkOpen()
    const topics = new Map<string, number[]>()
    for (const p of partitions ?? []) topics.set(p.topic, [...(topics.get(p.topic) ?? []), p.partition])
    const read = async () => {
      const groups: Awaited<ReturnType<Admin['listConsumerGroupOffsets']>> =
        await this.#admin.listConsumerGroupOffsets({
          groups: [
            partitions === undefined
              ? groupId
              : { groupId, topics: [...topics].map(([name, list]) => ({ name, partitionIndexes: list })) },
          ],
          requireStable: options.requireStable ?? false,
        })
      const result: CommittedOffset[] = []
      for (const group of groups) {
        for (const topic of group.topics) {
          for (const p of topic.partitions) {
            if (p.committedOffset >= 0n) {
              const offset = { topic: topic.name, partition: p.partitionIndex, offset: p.committedOffset }
              result.push(p.metadata ? { ...offset, metadata: p.metadata } : offset)
            }
          }
        }
      }
      return result
    }
    const what = `reading offsets of group '${groupId}'`
    try {
      // UNSTABLE_OFFSET_COMMIT (a transaction still completing) is retriable: wait it out.
      return options.requireStable
        ? await retryKafka(what, read, { timeoutMs: this.options.retryTimeoutMs })
        : await read()
    } catch (error) {
      throw kafkaError(what, error, { groupId })
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    const closing: Promise<unknown>[] = [this.#admin.close()]
    if (this.#producer) closing.push(this.#producer.close())
    for (const pool of this.#fetchPools) if (pool) closing.push(pool.close())
    const results = await Promise.allSettled(closing)
    for (const result of results) {
      if (result.status === 'rejected')
        this.#logger.warn('closing a Kafka connection failed', { error: result.reason })
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new SluiceError(ErrorCodes.CLOSED, 'the Kafka client is closed')
  }

  async #rawMetadata(topics: string[], refresh: boolean): Promise<ClusterMetadata> {
    try {
      // The wire client sorts the array it is given in place: hand it a copy.
      return await this.#admin.metadata({ topics: [...topics], forceUpdate: refresh })
    } catch (error) {
      const message = messageOf(error)
      const unknown = /^Unknown topic (.*)\.$/.exec(message)
      if (unknown) {
        throw new SluiceError(ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION, `topic '${unknown[1]}' does not exist`, {
          cause: error,
          details: { topic: unknown[1] },
        })
      }
      throw kafkaError('reading cluster metadata', error)
    }
  }

  async #api(name: string): Promise<LowLevelApi> {
    return new Promise((resolve, reject) => {
      // biome-ignore lint/suspicious/noExplicitAny: kGetApi negotiates the highest version both sides support
      ;(this.#admin as any)[kGetApi](name, (error: Error | null, api: LowLevelApi) =>
        error ? reject(kafkaError(`negotiating the ${name} API`, error)) : resolve(api),
      )
    })
  }

  /** The highest Fetch version both sides speak; brokers older than Kafka 2.7 are refused. */
  async #fetchVersion(): Promise<number> {
    this.#fetchVersionFound ??= this.#api('Fetch').then((api) => {
      if (api.version < minFetchVersion) {
        throw new SluiceError(
          ErrorCodes.KAFKA,
          `the broker speaks Fetch up to v${api.version}; sluice needs v${minFetchVersion} or later (Kafka 2.7+)`,
        )
      }
      return api.version
    })
    this.#fetchVersionFound.catch(() => {
      this.#fetchVersionFound = undefined
    })
    return this.#fetchVersionFound
  }

  async #adminConnection(cluster: ClusterInfo, nodeId: number) {
    const broker = cluster.brokers.get(nodeId)
    if (!broker) {
      throw new SluiceError(ErrorCodes.KAFKA, `broker ${nodeId} is not in the cluster metadata`, {
        retriable: true,
      })
    }
    return this.#admin.connections.get({ host: broker.host, port: broker.port })
  }

  #fetchPool(slot: number): ConnectionPool {
    let pool = this.#fetchPools[slot]
    if (!pool) {
      const o = this.options
      pool = new ConnectionPool(`${o.clientId}-fetch-${slot}`, {
        connectTimeout: o.connectTimeoutMs,
        requestTimeout: o.requestTimeoutMs,
        ...(o.tls ? { tls: o.tls } : {}),
        // biome-ignore lint/suspicious/noExplicitAny: passed through to the wire client as given
        ...(o.sasl ? { sasl: o.sasl as any } : {}),
      })
      this.#fetchPools[slot] = pool
    }
    return pool
  }

  /** After a connection failure the next attempt gets a fresh connection. */
  #dropFetchPool(slot: number): void {
    const pool = this.#fetchPools[slot]
    this.#fetchPools[slot] = undefined
    pool?.close().catch(() => {})
  }

  async #waitForLeaders(topics: readonly { name: string; partitions: number }[]): Promise<void> {
    const deadline = Date.now() + this.options.retryTimeoutMs
    for (;;) {
      try {
        const cluster = await this.metadata(
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
          `partitions of ${topics.map((t) => t.name).join(', ')} got no leader within ${this.options.retryTimeoutMs} ms`,
          { retriable: true },
        )
      }
      await sleep(100)
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

function requireLeader(cluster: ClusterInfo, topic: string, partition: number) {
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

function groupByLeader(cluster: ClusterInfo, partitions: readonly TopicPartition[]) {
  const byLeader = new Map<number, Map<string, PartitionInfo[]>>()
  for (const { topic, partition } of partitions) {
    const { info } = requireLeader(cluster, topic, partition)
    const topics = byLeader.get(info.leader) ?? new Map<string, PartitionInfo[]>()
    byLeader.set(info.leader, topics)
    topics.set(topic, [...(topics.get(topic) ?? []), info])
  }
  return byLeader
}

/**
 * The wire client throws when any partition in a response carries an error code, attaching
 * the parsed response. sluice wants the per-partition codes itself, so it takes the response back.
 */
export async function callAllowingPartitionErrors<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    const response = (error as { response?: T } | null)?.response
    if (response !== undefined && response !== null) return response
    throw error
  }
}

function partitionError(
  what: string,
  topic: string,
  partition: number,
  code: number,
  offset?: bigint,
): SluiceError {
  const info = describeProtocolError(code)
  const details = { topic, partition, kafkaError: info.id, ...(offset === undefined ? {} : { offset }) }
  if (info.id === 'OFFSET_OUT_OF_RANGE') {
    return new SluiceError(
      ErrorCodes.OFFSET_OUT_OF_RANGE,
      `offset ${offset} is out of range for ${topic}-${partition} (deleted by retention, or beyond the log end)`,
      { details },
    )
  }
  if (info.id === 'UNKNOWN_TOPIC_OR_PARTITION' || info.id === 'UNKNOWN_TOPIC_ID') {
    // Right after creation a topic can be briefly unknown to its leader: retry within the budget.
    return new SluiceError(
      ErrorCodes.KAFKA,
      `${what} of ${topic}-${partition}: the broker does not know it`,
      {
        retriable: true,
        details,
      },
    )
  }
  return new SluiceError(ErrorCodes.KAFKA, `${what} of ${topic}-${partition} failed: ${info.id}`, {
    retriable: info.retriable,
    details,
  })
}

function specTimestamp(spec: OffsetSpec): bigint {
  if (spec === 'earliest') return -2n
  if (spec === 'latest' || spec === 'lastStable') return -1n
  return BigInt(Math.trunc(spec.timestamp))
}

function describeSpec(spec: OffsetSpec): string {
  return typeof spec === 'string' ? spec : `timestamp ${new Date(spec.timestamp).toISOString()}`
}

function uniqueTopics(partitions: readonly TopicPartition[]): string[] {
  return [...new Set(partitions.map((p) => p.topic))]
}

function slotOf(topic: string, partition: number): number {
  let hash = partition
  for (let i = 0; i < topic.length; i++) hash = (hash * 31 + topic.charCodeAt(i)) | 0
  return Math.abs(hash) % fetchConnectionSlots
}

function toBuffer(value: Buffer | string): Buffer {
  return typeof value === 'string' ? Buffer.from(value) : value
}

/** A ProduceRecord as the wire client's producer takes it. */
export function toWireMessage(record: ProduceRecord) {
  return {
    topic: record.topic,
    ...(record.partition === undefined ? {} : { partition: record.partition }),
    ...(record.key === undefined || record.key === null ? {} : { key: toBuffer(record.key) }),
    ...(record.value === null ? {} : { value: toBuffer(record.value) }),
    ...(record.timestamp === undefined ? {} : { timestamp: BigInt(record.timestamp) }),
    ...(record.headers === undefined
      ? {}
      : {
          headers: new Map(record.headers.map(([k, v]) => [Buffer.from(k), toBuffer(v)] as [Buffer, Buffer])),
        }),
  }
}
