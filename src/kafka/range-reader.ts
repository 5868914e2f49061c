import { ErrorCodes, SluiceError } from '../core/errors.ts'
import type { KafkaClient } from './client.ts'
import { decodeFetch, type KafkaRecord, type PayloadDecoder } from './records.ts'
import type { IsolationLevel } from './types.ts'

export interface RangeReadOptions<K, V> {
  readonly topic: string
  readonly partition: number
  readonly from: bigint
  readonly until: bigint
  readonly isolationLevel: IsolationLevel
  /** Bytes asked for per fetch: the memory one reading task holds at a time. */
  readonly maxBytesPerFetch: number
  readonly key: PayloadDecoder<K>
  readonly value: PayloadDecoder<V>
  readonly signal?: AbortSignal
}

/** Empty answers tolerated while the log claims to hold more, before giving up. */
const maxEmptyFetches = 5

/**
 * Streams exactly the records of `[from, until)` of one partition from its leader, one
 * fetch-sized chunk at a time; nothing is read ahead of the consumer. Reading stops at
 * `until` or at the partition's end (high watermark, or last stable offset under
 * read_committed), whichever comes first — it never counts records, so gaps left by
 * compaction or transaction markers are harmless.
 */
export async function* readRange<K, V>(
  client: KafkaClient,
  options: RangeReadOptions<K, V>,
): AsyncGenerator<KafkaRecord<K, V>[], void, undefined> {
  const { topic, partition, until } = options
  const readCommitted = options.isolationLevel === 'read_committed'
  let next = options.from
  let emptyFetches = 0
  while (next < until) {
    options.signal?.throwIfAborted()
    const result = await client.fetch({
      topic,
      partition,
      offset: next,
      maxBytes: options.maxBytesPerFetch,
      isolationLevel: options.isolationLevel,
      ...(options.signal ? { signal: options.signal } : {}),
    })
    const chunk = decodeFetch(result, {
      from: next,
      until,
      readCommitted,
      key: options.key,
      value: options.value,
    })
    if (chunk.nextOffset > next) {
      next = chunk.nextOffset
      emptyFetches = 0
    } else {
      const end = readCommitted ? result.lastStableOffset : result.highWatermark
      if (next >= end) return
      if (++emptyFetches >= maxEmptyFetches) {
        throw new SluiceError(
          ErrorCodes.KAFKA,
          `fetching ${topic}-${partition} at offset ${next} keeps returning no data although the log ends at ${end}`,
          { retriable: true, details: { topic, partition, offset: next, end } },
        )
      }
    }
    if (chunk.records.length > 0) yield chunk.records
  }
}
