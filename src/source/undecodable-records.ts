import { describeReceived } from '../core/describe-value.ts'
import { ErrorCodes, invalidOption, messageOf, SluiceError } from '../core/errors.ts'
import type { Logger } from '../core/logger.ts'
import { customOption, type OptionType, optionsObject, required, stringOption } from '../core/options.ts'
import { partitionKey } from '../core/partition-key.ts'
import type { KafkaClient } from '../kafka/client.ts'
import type { DeadLetters } from '../kafka/dead-letters.ts'
import type { UndecodableRecord } from '../kafka/records.ts'
import type { ProduceRecord } from '../kafka/types.ts'
import type { ReadCounters } from '../stream/batch-progress.ts'
import type { ClientLease } from './client-lease.ts'

/**
 * What happens to a record whose key or value cannot be deserialized:
 * - `'fail'` (the default): the batch fails, naming the topic, partition and offset;
 * - `'skip'`: it is left out, logged with its coordinates and the error, and counted;
 * - `{ deadLetterTopic }`: it is left out and its raw key, value and headers go to that topic,
 *   with headers saying where it came from and why (see DEAD_LETTER_HEADERS), and counted.
 */
export type DeserializationErrorPolicy = 'fail' | 'skip' | { readonly deadLetterTopic: string }

/** The headers a dead letter carries besides the record's own. */
export const DEAD_LETTER_HEADERS = {
  topic: 'sluice.source.topic',
  partition: 'sluice.source.partition',
  offset: 'sluice.source.offset',
  timestamp: 'sluice.source.timestamp',
  /** 'key' or 'value': the part that could not be deserialized. */
  part: 'sluice.error.part',
  message: 'sluice.error.message',
  app: 'sluice.app',
  input: 'sluice.input',
  batch: 'sluice.batch.id',
} as const

const expected = "'fail', 'skip' or { deadLetterTopic: 'topic' }"
const deadLetterOption = optionsObject({
  deadLetterTopic: required(stringOption({ expected: 'a topic name' })),
})

/** The `onDeserializationError` option of createDirectStream and createRDD. */
export const deserializationErrorOption: OptionType<DeserializationErrorPolicy> = customOption(
  expected,
  (value, path) => {
    if (value === 'fail' || value === 'skip') return value
    if (value !== null && typeof value === 'object' && !Array.isArray(value))
      return deadLetterOption.parse(value, path)
    throw invalidOption(path, `must be ${expected}, got ${describeReceived(value)}`)
  },
)

/** Where the records of one batch (or one createRDD) were read: for logs and dead-letter headers. */
export interface ReadScope {
  readonly logger: Logger
  readonly app?: string
  readonly input?: string
  readonly batchId?: number
}

/**
 * The undecodable records of one batch's slice (or one createRDD), under the 'skip' or
 * dead-letter policy. Each is kept once by its identity, however often the data is read
 * (two actions, a retried task, a window reading the batch again): counted once, logged once,
 * sent once. Nothing here runs for records that decode.
 */
export class UndecodableRecords implements DeadLetters {
  readonly #policy: Exclude<DeserializationErrorPolicy, 'fail'>
  readonly #scope: ReadScope
  readonly #seen = new Set<string>()
  readonly #letters = new Map<string, DeadLetter>()
  #skipped = 0

  constructor(policy: Exclude<DeserializationErrorPolicy, 'fail'>, scope: ReadScope) {
    this.#policy = policy
    this.#scope = scope
  }

  /** The records of a batch's slice under `policy`: none to keep for 'fail', which fails the read instead. */
  static forBatch(policy: DeserializationErrorPolicy, scope: ReadScope): UndecodableRecords | undefined {
    return policy === 'fail' ? undefined : new UndecodableRecords(policy, scope)
  }

  /**
   * The decoder's callback, bound. `identity` tells the record from the others; by default its
   * coordinates (a record read from its partition exists once). A source that may hold one
   * record twice (a receiver's re-delivery) names each delivery, so each counts as the record
   * it is in the batch's input.
   */
  readonly take = (record: UndecodableRecord, identity?: string): void => {
    const key = identity ?? `${partitionKey(record.topic, record.partition)}@${record.offset}`
    if (this.#seen.has(key)) return
    this.#seen.add(key)
    const fields = {
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      part: record.error.details.part,
      error: messageOf(record.error.cause ?? record.error),
      ...(this.#scope.input === undefined ? {} : { input: this.#scope.input }),
      ...(this.#scope.batchId === undefined ? {} : { batchId: this.#scope.batchId }),
    }
    if (this.#policy === 'skip') {
      this.#skipped++
      this.#scope.logger.warn('skipped a record that could not be deserialized', fields)
      return
    }
    this.#letters.set(key, {
      record: this.#deadLetter(record),
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      sent: false,
    })
    this.#scope.logger.warn('a record that could not be deserialized goes to the dead-letter topic', {
      ...fields,
      deadLetterTopic: this.#policy.deadLetterTopic,
    })
  }

  /** For the batch's progress, BatchInfo and metrics. */
  get counts(): ReadCounters {
    return { skippedRecords: this.#skipped, deadLetteredRecords: this.#letters.size }
  }

  /** In topic, partition and offset order, whatever order the batch's tasks found them in. */
  pending(): ProduceRecord[] {
    return [...this.#letters.values()]
      .filter((letter) => !letter.sent)
      .sort(
        (a, b) =>
          (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0) ||
          a.partition - b.partition ||
          (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0),
      )
      .map((letter) => letter.record)
  }

  /** The pending dead letters of one partition's offsets `[from, until)`: what one task found. */
  pendingIn(topic: string, partition: number, from: bigint, until: bigint): ProduceRecord[] {
    return [...this.#letters.values()]
      .filter(
        (l) =>
          !l.sent && l.topic === topic && l.partition === partition && l.offset >= from && l.offset < until,
      )
      .map((l) => l.record)
  }

  markSent(records: readonly ProduceRecord[]): void {
    const sent = new Set(records)
    for (const letter of this.#letters.values()) if (sent.has(letter.record)) letter.sent = true
  }

  /**
   * Sends the dead letters no output took into its transaction, before the batch commits:
   * at least once (a crash before the commit re-runs the batch, which finds and sends them again).
   */
  async sendPending(lease: ClientLease): Promise<void> {
    const letters = this.pending()
    if (letters.length === 0) return
    await lease.use((client) => this.send(client, letters))
  }

  /** Produces `letters` (from `pending()` or `pendingIn()`) with an idempotent producer, then marks them sent. */
  async send(client: KafkaClient, letters: readonly ProduceRecord[]): Promise<void> {
    if (letters.length === 0) return
    const { deadLetterTopic } = this.#policy as { deadLetterTopic: string }
    try {
      await client.produce(letters)
    } catch (error) {
      throw new SluiceError(
        ErrorCodes.KAFKA,
        `sending ${letters.length} record(s) that could not be deserialized to the dead-letter topic ` +
          `'${deadLetterTopic}' failed: ${messageOf(error)}`,
        { cause: error, details: { deadLetterTopic } },
      )
    }
    this.markSent(letters)
  }

  #deadLetter(record: UndecodableRecord): ProduceRecord {
    const { app, input, batchId } = this.#scope
    const h = DEAD_LETTER_HEADERS
    const headers: [string, Buffer | string | null][] = [
      ...record.headers.map(([name, value]): [string, Buffer | null] => [name, value]),
      [h.topic, record.topic],
      [h.partition, String(record.partition)],
      [h.offset, record.offset.toString()],
      [h.timestamp, String(record.timestamp)],
      [h.part, String(record.error.details.part)],
      [h.message, record.error.message],
    ]
    if (app !== undefined) headers.push([h.app, app])
    if (input !== undefined) headers.push([h.input, input])
    if (batchId !== undefined) headers.push([h.batch, String(batchId)])
    // No timestamp of its own: the producer's clock. The source's (in a header) may be old
    // enough for the dead-letter topic's retention to delete the record at once.
    return {
      topic: (this.#policy as { deadLetterTopic: string }).deadLetterTopic,
      key: record.key,
      value: record.value,
      headers,
    }
  }
}

/** A dead letter, with where its record came from. */
interface DeadLetter {
  readonly record: ProduceRecord
  readonly topic: string
  readonly partition: number
  readonly offset: bigint
  sent: boolean
}
