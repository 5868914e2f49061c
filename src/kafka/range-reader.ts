import { ErrorCodes, SluiceError } from '../core/errors.ts'
import type { KafkaClient } from './client.ts'
import { endOffsetOf } from './record-batch.ts'
import { decodeFetch, type KafkaRecord, type PayloadDecoder } from './records.ts'
import type { FetchResult, IsolationLevel } from './types.ts'

export interface RangeReadOptions<K, V> {
  readonly topic: string
  readonly partition: number
  readonly from: bigint
  readonly until: bigint
  readonly isolationLevel: IsolationLevel
  /** Bytes asked for per fetch. A reader holds at most two fetches: the one it decodes and the next. */
  readonly maxBytesPerFetch: number
  readonly key: PayloadDecoder<K>
  readonly value: PayloadDecoder<V>
  readonly signal?: AbortSignal
}

/** Empty answers tolerated while the log claims to hold more, before giving up. */
const maxEmptyFetches = 5

/**
 * Streams exactly the records of `[from, until)` of one partition from its leader, one
 * fetch-sized chunk at a time. While the caller works on one chunk the next fetch is already
 * on the wire (never more than one, and never past `until`), so network latency overlaps
 * with processing while memory stays at two fetches. Reading stops at `until` or at the
 * partition's end (high watermark, or last stable offset under read_committed), whichever
 * comes first — it never counts records, so gaps left by compaction or transaction markers
 * are harmless.
 */
export async function* readRange<K, V>(
  client: KafkaClient,
  options: RangeReadOptions<K, V>,
): AsyncGenerator<KafkaRecord<K, V>[], void, undefined> {
  const { topic, partition, until } = options
  const readCommitted = options.isolationLevel === 'read_committed'
  const fetchAt = (offset: bigint) =>
    client.fetch({
      topic,
      partition,
      offset,
      maxBytes: options.maxBytesPerFetch,
      isolationLevel: options.isolationLevel,
      ...(options.signal ? { signal: options.signal } : {}),
    })
  let next = options.from
  let emptyFetches = 0
  let pending: Promise<FetchResult> | undefined = next < until ? fetchAt(next) : undefined
  try {
    while (pending !== undefined) {
      const result = await pending
      pending = undefined
      const reachedTo = endOffsetOf(result.recordSet, next)
      if (reachedTo < until && reachedTo > next) pending = fetchAt(reachedTo)
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
        pending = fetchAt(next)
      }
      if (chunk.records.length > 0) yield chunk.records
    }
  } finally {
    // The caller stopped early (take, failure): the fetch on the wire is no longer wanted.
    pending?.catch(() => {})
  }
}
