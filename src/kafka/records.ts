import { ErrorCodes, messageOf, SluiceError } from '../core/errors.ts'
import { type AbortedTransaction, BatchAttributes, type FetchResult, type RecordBatch } from './types.ts'

/** A record as sluice hands it to user code. Offsets are bigint; timestamps are ms since epoch. */
export interface KafkaRecord<K = Buffer, V = Buffer> {
  readonly topic: string
  readonly partition: number
  readonly offset: bigint
  readonly timestamp: number
  readonly key: K | null
  readonly value: V | null
  readonly headers: ReadonlyArray<readonly [string, Buffer | null]>
}

/** Turns a non-null key or value payload into the user's type; null stays null. */
export type PayloadDecoder<T> = (payload: Buffer) => T

export interface DecodeOptions<K, V> {
  /** First offset wanted: records below it (the head of a batch) are trimmed. */
  readonly from: bigint
  /** First offset not wanted. */
  readonly until: bigint
  /** Hide records of aborted transactions (read_committed). */
  readonly readCommitted: boolean
  readonly key: PayloadDecoder<K>
  readonly value: PayloadDecoder<V>
}

export interface DecodedChunk<K, V> {
  readonly records: KafkaRecord<K, V>[]
  /** Where the next fetch starts: one past the last offset any returned batch covered. */
  readonly nextOffset: bigint
}

const noHeaders: ReadonlyArray<readonly [string, Buffer | null]> = Object.freeze([])
/** Control record key: int16 version, int16 type; type 0 = ABORT, 1 = COMMIT. */
const abortMarkerType = 0

/**
 * Decodes one fetch response into exactly the records with `from <= offset < until`:
 * batches that start below `from` are trimmed, control batches (transaction markers) are
 * skipped, and under read_committed the batches of aborted transactions are dropped using
 * the response's aborted-transaction list — the same procedure Kafka's Java consumer uses.
 * Offsets missing inside the range (compaction, markers) are simply not there: nothing
 * here counts records.
 */
export function decodeFetch<K, V>(result: FetchResult, options: DecodeOptions<K, V>): DecodedChunk<K, V> {
  const { topic, partition } = result
  const { from, until } = options
  const records: KafkaRecord<K, V>[] = []
  let nextOffset = from
  const aborted = options.readCommitted ? new AbortTracker(result.abortedTransactions) : undefined
  for (const batch of result.batches) {
    const lastOffset = batch.firstOffset + BigInt(batch.lastOffsetDelta)
    if (lastOffset >= nextOffset) nextOffset = lastOffset + 1n
    if (aborted?.skips(batch, lastOffset)) continue
    if ((batch.attributes & BatchAttributes.CONTROL) !== 0) continue
    if (lastOffset < from) continue
    if (batch.firstOffset >= until) break
    const logAppendTime = (batch.attributes & BatchAttributes.LOG_APPEND_TIME) !== 0
    const baseTimestamp = Number(logAppendTime ? batch.maxTimestamp : batch.firstTimestamp)
    // Most batches lie wholly inside the range: then no record needs a bigint comparison.
    const wholeBatch = batch.firstOffset >= from && lastOffset < until
    for (const raw of batch.records) {
      const offset = batch.firstOffset + smallBigInt(raw.offsetDelta)
      if (!wholeBatch) {
        if (offset < from) continue
        if (offset >= until) break
      }
      const timestamp = logAppendTime ? baseTimestamp : baseTimestamp + Number(raw.timestampDelta)
      let key: K | null = null
      let value: V | null = null
      try {
        if (raw.key !== null) key = options.key(raw.key)
      } catch (error) {
        throw deserializationError('key', topic, partition, offset, error)
      }
      try {
        if (raw.value !== null) value = options.value(raw.value)
      } catch (error) {
        throw deserializationError('value', topic, partition, offset, error)
      }
      const headers = raw.headers.length === 0 ? noHeaders : raw.headers.map(headerEntry)
      records.push({ topic, partition, offset, timestamp, key, value, headers })
    }
  }
  return { records, nextOffset }
}

/** BigInts of small record offset deltas, made once: saves an allocation per record. */
const smallBigInts: bigint[] = Array.from({ length: 1 << 14 }, (_, i) => BigInt(i))

function smallBigInt(value: number): bigint {
  return value < smallBigInts.length ? smallBigInts[value]! : BigInt(value)
}

function headerEntry(header: readonly [Buffer | null, Buffer | null]): readonly [string, Buffer | null] {
  return [header[0]?.toString('utf8') ?? '', header[1]]
}

function deserializationError(
  part: string,
  topic: string,
  partition: number,
  offset: bigint,
  cause: unknown,
) {
  return new SluiceError(
    ErrorCodes.DESERIALIZATION,
    `could not deserialize the ${part} of ${topic}-${partition} at offset ${offset}: ${messageOf(cause)}`,
    { cause, details: { topic, partition, offset, part } },
  )
}

/**
 * Tracks which producers are inside an aborted transaction while walking batches in offset
 * order. A producer enters when the walk reaches its aborted transaction's first offset and
 * leaves at that transaction's ABORT marker.
 */
class AbortTracker {
  readonly #pending: AbortedTransaction[]
  readonly #abortedProducers = new Set<bigint>()

  constructor(aborted: readonly AbortedTransaction[]) {
    this.#pending = [...aborted].sort((a, b) =>
      a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0,
    )
  }

  /** True when the batch belongs to an aborted transaction (or is its marker) and must be skipped. */
  skips(batch: RecordBatch, lastOffset: bigint): boolean {
    while (this.#pending.length > 0 && this.#pending[0]!.firstOffset <= lastOffset) {
      this.#abortedProducers.add(this.#pending.shift()!.producerId)
    }
    if ((batch.attributes & BatchAttributes.CONTROL) !== 0) {
      if (isAbortMarker(batch)) this.#abortedProducers.delete(batch.producerId)
      return true
    }
    return (
      (batch.attributes & BatchAttributes.TRANSACTIONAL) !== 0 && this.#abortedProducers.has(batch.producerId)
    )
  }
}

function isAbortMarker(batch: RecordBatch): boolean {
  const key = batch.records[0]?.key
  return key !== null && key !== undefined && key.length >= 4 && key.readInt16BE(2) === abortMarkerType
}
