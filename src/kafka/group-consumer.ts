import { Consumer, type MessagesStream } from '@platformatic/kafka'
import { ErrorCodes, SluiceError } from '../core/errors.ts'
import { kafkaError } from './errors.ts'
import { type ResolvedClientOptions, wireClientOptions } from './options.ts'
import type { IsolationLevel, TopicPartition } from './types.ts'

/**
 * A record as the group consumer delivers it: the wire client's own message object, seen
 * through the fields sluice reads (so nothing is copied per record). Payloads are views into
 * the fetched bytes; a null key or value is `undefined` or `null`.
 */
export interface ConsumedRecord {
  readonly topic: string
  readonly partition: number
  readonly offset: bigint
  /** ms since the epoch. */
  readonly timestamp: bigint
  readonly key: Buffer | null | undefined
  readonly value: Buffer | null | undefined
  readonly headerEntries: ReadonlyArray<readonly [Buffer, Buffer | null | undefined]>
  /** The leader epoch the record was written in; offset commits carry it (KIP-320). */
  readonly leaderEpoch: number
}

/** An offset to commit: the next record the group should read, with its leader epoch. */
export interface OffsetToCommit extends TopicPartition {
  readonly offset: bigint
  readonly leaderEpoch: number
}

export interface GroupConsumerOptions {
  readonly connection: ResolvedClientOptions
  readonly groupId: string
  /** Static membership (KIP-345): a restarted member with the same id takes its partitions back at once. */
  readonly groupInstanceId?: string
  readonly sessionTimeoutMs: number
  readonly heartbeatIntervalMs: number
  readonly isolationLevel: IsolationLevel
  /** Where a partition without a committed offset starts. */
  readonly startFrom: 'earliest' | 'latest'
  readonly topics: readonly string[]
  /**
   * Bytes a fetch returns at most. The wire client hands a fetch's records over in one
   * synchronous loop, so a small fetch keeps the event loop (timers, heartbeats) turning.
   */
  readonly maxBytesPerFetch: number
}

export interface GroupConsumerHandlers {
  /** Called for every record, in partition order, as fetches arrive. */
  onRecord(record: ConsumedRecord): void
  /** The consumer failed and stopped; close it and start another to go on. */
  onError(error: SluiceError): void
}

/**
 * A member of a Kafka consumer group that reads its assigned partitions continuously from
 * the group's committed offsets — @platformatic/kafka's Consumer and its message stream,
 * behind sluice's vocabulary. Rebalances, heartbeats and fetch sessions are the wire
 * client's; this class turns its events into two callbacks and its failures into
 * SluiceErrors, so none escapes as an unhandled 'error' event.
 */
export class GroupConsumer {
  readonly #consumer: Consumer
  readonly #stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>
  #closed = false

  private constructor(consumer: Consumer, stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>) {
    this.#consumer = consumer
    this.#stream = stream
  }

  /**
   * Joins the group; resolves once the first assignment is known, paused: records flow to
   * `onRecord` from the first `resume()`.
   */
  static async start(options: GroupConsumerOptions, handlers: GroupConsumerHandlers): Promise<GroupConsumer> {
    const consumer = new Consumer({
      ...wireClientOptions(options.connection, 'receiver'),
      groupId: options.groupId,
      ...(options.groupInstanceId === undefined ? {} : { groupInstanceId: options.groupInstanceId }),
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: options.heartbeatIntervalMs,
      isolationLevel: options.isolationLevel === 'read_committed' ? 1 : 0,
      // Only commit() commits: the wire client's auto-commit would commit what it fetched,
      // including records still in its buffer that nobody was handed yet.
      autocommit: false,
      maxBytes: options.maxBytesPerFetch,
      maxBytesPerPartition: options.maxBytesPerFetch,
    })
    let failed = false
    let member: GroupConsumer | undefined
    const fail = (what: string, error: unknown) => {
      if (failed) return
      failed = true
      const sluiceError = kafkaError(`the consumer of group '${options.groupId}' (${what})`, error)
      // Reported once the caller holds the member, never before start() resolved.
      if (member === undefined) setImmediate(() => handlers.onError(sluiceError))
      else handlers.onError(sluiceError)
    }
    consumer.on('error', (error: unknown) => fail('client error', error))
    let stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>
    try {
      stream = await consumer.consume({
        topics: [...options.topics],
        mode: 'committed',
        fallbackMode: options.startFrom,
      })
    } catch (error) {
      await consumer.close(true).catch(() => {})
      throw kafkaError(
        `joining consumer group '${options.groupId}' on ${options.topics.map((t) => `'${t}'`).join(', ')}`,
        error,
        { groupId: options.groupId, topics: [...options.topics] },
      )
    }
    const started = new GroupConsumer(consumer, stream)
    // Nothing is fetched until the caller, ready for records, calls resume().
    stream.pause()
    stream.on('error', (error: unknown) => fail('reading', error))
    stream.on('data', (message: ConsumedRecord) => handlers.onRecord(message))
    stream.on('close', () => {
      if (!started.#closed) fail('reading', new Error('the message stream closed unexpectedly'))
    })
    member = started
    return started
  }

  /** Partitions currently assigned to this member. */
  get assignment(): TopicPartition[] {
    const out: TopicPartition[] = []
    for (const a of this.#consumer.assignments ?? []) {
      for (const partition of a.partitions) out.push({ topic: a.topic, partition })
    }
    return out
  }

  /** Stops delivering records (fetching stops once the stream's small buffer is full). */
  pause(): void {
    if (!this.#closed) this.#stream.pause()
  }

  resume(): void {
    if (!this.#closed) this.#stream.resume()
  }

  /**
   * Pauses, then hands `onRecord` (through the 'data' event, as ever) every record already
   * fetched into the stream's buffer, so that a stopping receiver takes in what it has.
   */
  drainBuffered(): void {
    if (this.#closed) return
    this.#stream.pause()
    while (this.#stream.read() !== null) {
      // read() emits 'data' for what it returns.
    }
  }

  /** Commits offsets to the group; rejects with a SluiceError (e.g. after a rebalance took the partition). */
  async commit(offsets: readonly OffsetToCommit[]): Promise<void> {
    if (this.#closed) throw new SluiceError(ErrorCodes.CLOSED, 'the group consumer is closed')
    if (offsets.length === 0) return
    try {
      await this.#consumer.commit({
        offsets: offsets.map((o) => ({
          topic: o.topic,
          partition: o.partition,
          offset: o.offset,
          leaderEpoch: o.leaderEpoch,
        })),
      })
    } catch (error) {
      throw kafkaError(`committing offsets of group '${this.#consumer.groupId}'`, error, {
        groupId: this.#consumer.groupId,
      })
    }
  }

  /** Stops reading and leaves the group; never rejects. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    try {
      await this.#stream.close()
    } catch {
      // Closing anyway; the consumer's close below releases the connections.
    }
    try {
      await this.#consumer.close(true)
    } catch {
      // The member times out of the group on its own.
    }
  }
}
