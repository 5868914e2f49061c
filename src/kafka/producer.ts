import { Producer } from '@platformatic/kafka'
import { describeReceived } from '../core/describe-value.ts'
import { ErrorCodes, SluiceError } from '../core/errors.ts'
import { closestName } from '../core/options.ts'
import type { Cluster } from './cluster.ts'
import type { KafkaConnection } from './kafka-connection.ts'
import { wireClientOptions } from './options.ts'
import type { ClusterInfo, PartitionOffset, ProduceRecord } from './types.ts'

/**
 * Plain (non-transactional) produce, for tools, tests, dead-letter topics and the demo. The
 * producer is idempotent: the wire client retries a whole request when one partition in it
 * fails (common right after a topic is created), and only idempotence keeps the partitions
 * that already succeeded from being written twice.
 */
export class RecordProducer {
  readonly #connection: KafkaConnection
  readonly #cluster: Cluster
  #producer: Producer | undefined

  constructor(connection: KafkaConnection, cluster: Cluster) {
    this.#connection = connection
    this.#cluster = cluster
  }

  /** Produces records and waits for all in-sync replicas; returns each partition's base offset. */
  async produce(records: readonly ProduceRecord[]): Promise<PartitionOffset[]> {
    this.#connection.checkOpen()
    checkRecords(records)
    if (records.length === 0) return []
    this.#producer ??= new Producer({
      ...wireClientOptions(this.#connection.options, 'producer'),
      acks: -1,
      idempotent: true,
    })
    await this.#checkExplicitPartitions(records, this.#producer)
    try {
      const result = await this.#producer.send({ messages: records.map(toWireMessage), acks: -1 })
      return (result.offsets ?? []).map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset }))
    } catch (error) {
      throw this.#connection.failure(`producing ${records.length} records`, error)
    }
  }

  async close(): Promise<void> {
    const producer = this.#producer
    this.#producer = undefined
    await producer?.close()
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
    let cluster = await this.#cluster.metadata(topics)
    if (!fits(cluster)) cluster = await this.#cluster.metadata(topics, { refresh: true })
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
          // Keys are distinct Buffer objects, so a header name given twice is sent twice.
          headers: new Map(
            record.headers.map(
              ([k, v]) => [Buffer.from(k), v === null ? null : toBuffer(v)] as [Buffer, Buffer],
            ),
          ),
        }),
  }
}

/**
 * The shape of what callers from plain JavaScript pass, checked before anything is sent: a
 * wrong shape would otherwise fail deep in the wire client with a message that names nothing
 * of the caller's. Cheap enough for the millions of records a fill produces.
 */
function checkRecords(records: unknown): asserts records is readonly ProduceRecord[] {
  if (!Array.isArray(records)) {
    throw invalidRecords(
      `expects an array of records ({ topic, value, ... }), got ${describeReceived(records)}`,
    )
  }
  for (let index = 0; index < records.length; index++) {
    const record: unknown = records[index]
    if (record === null || typeof record !== 'object') {
      throw invalidRecords(
        `record ${index} must be an object ({ topic, value, ... }), got ${describeReceived(record)}`,
      )
    }
    const { topic, partition, key, value } = record as Record<string, unknown>
    if (typeof topic !== 'string' || topic === '') {
      throw invalidRecords(
        `record ${index} needs 'topic', a non-empty string; got ${describeReceived(topic)}`,
      )
    }
    for (const field in record) {
      if (!recordFieldSet.has(field)) {
        const near = closestName(field, recordFields)
        throw invalidRecords(
          `record ${index} (topic '${topic}') has an unknown field '${field}'${near ? `; did you mean '${near}'?` : ''} (known: ${recordFields.join(', ')})`,
        )
      }
    }
    if (value === undefined) {
      throw invalidRecords(`record ${index} (topic '${topic}') needs 'value' (null for a record without one)`)
    }
    if (partition !== undefined && !(Number.isInteger(partition) && (partition as number) >= 0)) {
      throw invalidRecords(
        `record ${index} (topic '${topic}'): 'partition' must be an integer >= 0, got ${describeReceived(partition)}`,
      )
    }
    for (const [name, field] of [
      ['key', key],
      ['value', value],
    ] as const) {
      if (field !== undefined && field !== null && typeof field !== 'string' && !Buffer.isBuffer(field)) {
        throw invalidRecords(
          `record ${index} (topic '${topic}'): '${name}' must be a string, a Buffer or null, got ${describeReceived(field)}`,
        )
      }
    }
  }
}

const recordFields: readonly string[] = ['topic', 'partition', 'key', 'value', 'headers', 'timestamp']
const recordFieldSet: ReadonlySet<string> = new Set(recordFields)

function invalidRecords(problem: string): SluiceError {
  return new SluiceError(ErrorCodes.INVALID_ARGUMENT, `produce ${problem}`)
}
