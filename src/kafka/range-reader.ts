import { ErrorCodes, SluiceError } from '../core/errors.ts'
import {
  batchHeaders,
  computedCrcOf,
  endOffsetOf,
  firstCorruptBatch,
  type RecordBatchHeader,
} from './record-batch.ts'
import { FetchDecoder, type KafkaRecord, type PayloadDecoder, type UndecodableRecord } from './records.ts'
import type { FetchRequest, FetchResult, IsolationLevel } from './types.ts'

/** The one call the range reader makes on the Kafka boundary: a fetch of one partition. */
export interface RecordFetcher {
  fetch(request: FetchRequest): Promise<FetchResult>
}

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
  /** Verify each record batch's CRC-32C before decoding it (Kafka's `check.crcs`). Default true. */
  readonly checkCrcs?: boolean
  /** Takes the records whose key or value cannot be deserialized (see DecodeOptions); without it they fail the read. */
  readonly onUndecodable?: ((record: UndecodableRecord) => void) | undefined
  readonly signal?: AbortSignal
}

/** Empty answers tolerated while the log claims to hold more, before giving up. */
const maxEmptyFetches = 5

/**
 * Records per chunk handed on. A fetch is decoded a slice at a time, each slice processed
 * before the next is decoded, so records die young (cheap for V8's scavenger) instead of a
 * whole fetch of them being promoted to the old generation while it is worked through.
 */
export const maxRecordsPerChunk = 1024

/**
 * Streams exactly the records of `[from, until)` of one partition from its leader, one
 * fetch-sized chunk at a time. While the caller works on one chunk the next fetch is already
 * on the wire (never more than one, and never past `until`), so network latency overlaps
 * with processing while memory stays at two fetches. Reading stops at `until` or at the
 * partition's end (high watermark, or last stable offset under read_committed), whichever
 * comes first — it never counts records, so gaps left by compaction or transaction markers
 * are harmless.
 *
 * With `checkCrcs` (the default) every record batch is checked against its CRC-32C before
 * anything in it is used. A corrupt batch is fetched once more, since the damage may have
 * happened on the way; corrupt again, the read fails naming the topic, partition and offsets.
 */
export async function* readRange<K, V>(
  fetcher: RecordFetcher,
  options: RangeReadOptions<K, V>,
): AsyncGenerator<KafkaRecord<K, V>[], void, undefined> {
  const { topic, partition, until } = options
  const readCommitted = options.isolationLevel === 'read_committed'
  const checkCrcs = options.checkCrcs ?? true
  const fetchAt = (offset: bigint) =>
    fetcher.fetch({
      topic,
      partition,
      offset,
      maxBytes: options.maxBytesPerFetch,
      isolationLevel: options.isolationLevel,
      ...(options.signal ? { signal: options.signal } : {}),
    })
  let next = options.from
  let emptyFetches = 0
  /** The fetch offset whose answer was corrupt once already, so a second corrupt answer fails. */
  let refetchedCorruptAt: bigint | undefined
  let pending: Promise<FetchResult> | undefined = next < until ? fetchAt(next) : undefined
  try {
    while (pending !== undefined) {
      const result = await pending
      pending = undefined
      const batches = batchHeaders(result.recordSet)
      const corrupt = checkCrcs ? firstCorruptBatch(batches) : undefined
      if (corrupt !== undefined) {
        if (refetchedCorruptAt === next) throw corruptBatchError(topic, partition, next, corrupt)
        refetchedCorruptAt = next
        pending = fetchAt(next)
        continue
      }
      const reachedTo = endOffsetOf(batches, next)
      if (reachedTo < until && reachedTo > next) pending = fetchAt(reachedTo)
      const decoder = new FetchDecoder(result, batches, {
        from: next,
        until,
        readCommitted,
        key: options.key,
        value: options.value,
        onUndecodable: options.onUndecodable,
      })
      for (let records = decoder.next(maxRecordsPerChunk); records.length > 0; ) {
        yield records
        records = decoder.next(maxRecordsPerChunk)
      }
      if (reachedTo > next) {
        next = reachedTo
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
    }
  } finally {
    // The caller stopped early (take, failure): the fetch on the wire is no longer wanted.
    pending?.catch(() => {})
  }
}

function corruptBatchError(
  topic: string,
  partition: number,
  fetchOffset: bigint,
  batch: RecordBatchHeader,
): SluiceError {
  const lastOffset = batch.firstOffset + BigInt(batch.lastOffsetDelta)
  const hex = (crc: number) => `0x${crc.toString(16).padStart(8, '0')}`
  const computed = computedCrcOf(batch)
  return new SluiceError(
    ErrorCodes.CORRUPT_RECORD_BATCH,
    `the record batch of ${topic}-${partition} at offsets ${batch.firstOffset}..${lastOffset} is corrupt: ` +
      `its CRC-32C is ${hex(batch.crc)} but its bytes give ${hex(computed)}, in two fetches at offset ${fetchOffset}. ` +
      `The broker's copy is damaged: check that partition's log segments on the leader (kafka-dump-log.sh)`,
    {
      details: {
        topic,
        partition,
        firstOffset: batch.firstOffset,
        lastOffset,
        fetchOffset,
        storedCrc: batch.crc,
        computedCrc: computed,
      },
    },
  )
}
