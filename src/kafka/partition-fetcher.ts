import { ConnectionPool } from '@platformatic/kafka'
import { ErrorCodes, SluiceError } from '../core/errors.ts'
import { type Cluster, requireLeader } from './cluster.ts'
import { type FetchEvent, fetchChannel } from './diagnostics.ts'
import { partitionError } from './errors.ts'
import { fetchApi, minFetchVersion } from './fetch-response.ts'
import type { KafkaConnection } from './kafka-connection.ts'
import { connectionSecurity } from './options.ts'
import type { FetchRequest, FetchResult } from './types.ts'
import { negotiatedApi } from './wire.ts'

/** Fetches spread over a few connections per broker so partitions do not queue behind each other. */
const fetchConnectionSlots = 4
const noSessionId = 0
/** Fetch session epoch -1 asks for a full, sessionless fetch (KIP-227). */
const sessionlessEpoch = -1

/**
 * Single-partition fetches from the leader, with sluice's own response parser. Leader moves,
 * broker restarts and connection failures are retried within `retryTimeoutMs`, with fresh
 * metadata and a fresh connection for each new attempt.
 */
export class PartitionFetcher {
  readonly #connection: KafkaConnection
  readonly #cluster: Cluster
  readonly #pools: (ConnectionPool | undefined)[] = new Array(fetchConnectionSlots)
  #fetchVersionFound: Promise<number> | undefined

  constructor(connection: KafkaConnection, cluster: Cluster) {
    this.#connection = connection
    this.#cluster = cluster
  }

  /**
   * One fetch of one partition from its leader, starting at `offset`. Returns whole record
   * batches as the broker stores them (the first may start below `offset`), plus the
   * partition's watermarks and, under read_committed, the aborted transactions in range.
   */
  async fetch(request: FetchRequest): Promise<FetchResult> {
    const { topic, partition, offset } = request
    const slot = slotOf(topic, partition)
    return this.#connection.retry(
      `fetch of ${topic}-${partition} at offset ${offset}`,
      async (attempt) => {
        const cluster = await this.#cluster.describe([topic], attempt > 1)
        const { info, leader } = requireLeader(cluster, topic, partition)
        const api = fetchApi(await this.#fetchVersion())
        if (fetchChannel.hasSubscribers) {
          fetchChannel.publish({ topic, partition, offset, maxBytes: request.maxBytes } satisfies FetchEvent)
        }
        const connection = await this.#pool(slot).get({ host: leader.host, port: leader.port })
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
        signal: request.signal,
        beforeRetry: (error) => {
          // After a connection failure the next attempt gets a fresh connection.
          if (!(error instanceof SluiceError)) this.#dropPool(slot)
        },
      },
    )
  }

  async close(): Promise<void> {
    const pools = this.#pools.splice(0, fetchConnectionSlots, ...new Array(fetchConnectionSlots))
    await Promise.all(pools.map((pool) => pool?.close()))
  }

  /** The highest Fetch version both sides speak; brokers older than Kafka 2.7 are refused. */
  async #fetchVersion(): Promise<number> {
    this.#fetchVersionFound ??= negotiatedApi(this.#connection.admin, 'Fetch').then((api) => {
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

  #pool(slot: number): ConnectionPool {
    let pool = this.#pools[slot]
    if (!pool) {
      const o = this.#connection.options
      pool = new ConnectionPool(`${o.clientId}-fetch-${slot}`, {
        connectTimeout: o.connectTimeoutMs,
        requestTimeout: o.requestTimeoutMs,
        ...connectionSecurity(o),
      })
      this.#pools[slot] = pool
    }
    return pool
  }

  #dropPool(slot: number): void {
    const pool = this.#pools[slot]
    this.#pools[slot] = undefined
    pool?.close().catch(() => {})
  }
}

function slotOf(topic: string, partition: number): number {
  let hash = partition
  for (let i = 0; i < topic.length; i++) hash = (hash * 31 + topic.charCodeAt(i)) | 0
  return Math.abs(hash) % fetchConnectionSlots
}
