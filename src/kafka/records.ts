import { ErrorCodes, messageOf, SluiceError } from '../core/errors.ts'
import { batchHeaders, type RecordBatchHeader, RecordCursor, recordsSection } from './record-batch.ts'
import { type AbortedTransaction, BatchAttributes, type FetchResult } from './types.ts'

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

/**
 * Turns a non-null key or value payload into the user's type; null stays null. A decoder may
 * also offer `fromRange`, which reads the bytes in place (e.g. a string decoded straight from
 * the fetch buffer) instead of receiving a Buffer view made for it.
 */
export interface PayloadDecoder<T> {
  (payload: Buffer): T
  readonly fromRange?: (data: Buffer, start: number, end: number) => T
}

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
 * here counts records. Skipped batches are never decoded, only their headers read.
 */
export function decodeFetch<K, V>(result: FetchResult, options: DecodeOptions<K, V>): DecodedChunk<K, V> {
  const records: KafkaRecord<K, V>[] = []
  let nextOffset = options.from
  if (result.recordSet === null) return { records, nextOffset }
  const aborted = options.readCommitted ? new AbortTracker(result.abortedTransactions) : undefined
  for (const batch of batchHeaders(result.recordSet)) {
    const lastOffset = batch.firstOffset + BigInt(batch.lastOffsetDelta)
    if (lastOffset >= nextOffset) nextOffset = lastOffset + 1n
    if (aborted?.skips(batch, lastOffset)) continue
    if ((batch.attributes & BatchAttributes.CONTROL) !== 0) continue
    if (lastOffset < options.from) continue
    if (batch.firstOffset >= options.until) break
    decodeBatch(result, batch, lastOffset, options, records)
  }
  return { records, nextOffset }
}

function decodeBatch<K, V>(
  result: FetchResult,
  batch: RecordBatchHeader,
  lastOffset: bigint,
  options: DecodeOptions<K, V>,
  out: KafkaRecord<K, V>[],
): void {
  const { topic, partition } = result
  const { from, until } = options
  const section = recordsSection(batch)
  const data = section.data
  const cursor = new RecordCursor(data, section.start)
  const logAppendTime = (batch.attributes & BatchAttributes.LOG_APPEND_TIME) !== 0
  const baseTimestamp = Number(logAppendTime ? batch.maxTimestamp : batch.firstTimestamp)
  // Most batches lie wholly inside the range: then no record needs a bigint comparison.
  const wholeBatch = batch.firstOffset >= from && lastOffset < until
  for (let i = 0; i < batch.recordCount && cursor.pos < section.end; i++) {
    const length = cursor.varint()
    const recordEnd = cursor.pos + length
    cursor.pos++ // record attributes: unused in v2
    const timestampDelta = cursor.varlong()
    const offset = batch.firstOffset + smallBigInt(cursor.varint())
    if (!wholeBatch) {
      if (offset < from) {
        cursor.pos = recordEnd
        continue
      }
      if (offset >= until) break
    }
    const keyLength = cursor.varint()
    let key: K | null = null
    if (keyLength >= 0) {
      key = decodePayload(
        options.key,
        data,
        cursor.pos,
        cursor.pos + keyLength,
        'key',
        topic,
        partition,
        offset,
      )
      cursor.pos += keyLength
    }
    const valueLength = cursor.varint()
    let value: V | null = null
    if (valueLength >= 0) {
      value = decodePayload(
        options.value,
        data,
        cursor.pos,
        cursor.pos + valueLength,
        'value',
        topic,
        partition,
        offset,
      )
      cursor.pos += valueLength
    }
    const headerCount = cursor.varint()
    const headers = headerCount <= 0 ? noHeaders : readHeaders(cursor, headerCount)
    cursor.pos = recordEnd
    const timestamp = logAppendTime ? baseTimestamp : baseTimestamp + timestampDelta
    out.push({ topic, partition, offset, timestamp, key, value, headers })
  }
}

function decodePayload<T>(
  decoder: PayloadDecoder<T>,
  data: Buffer,
  start: number,
  end: number,
  part: string,
  topic: string,
  partition: number,
  offset: bigint,
): T {
  try {
    return decoder.fromRange ? decoder.fromRange(data, start, end) : decoder(data.subarray(start, end))
  } catch (error) {
    throw new SluiceError(
      ErrorCodes.DESERIALIZATION,
      `could not deserialize the ${part} of ${topic}-${partition} at offset ${offset}: ${messageOf(error)}`,
      { cause: error, details: { topic, partition, offset, part } },
    )
  }
}

function readHeaders(cursor: RecordCursor, count: number): [string, Buffer | null][] {
  const headers: [string, Buffer | null][] = []
  const data = cursor.data
  for (let h = 0; h < count; h++) {
    const keyLength = cursor.varint()
    const key = keyLength > 0 ? data.toString('utf8', cursor.pos, cursor.pos + keyLength) : ''
    cursor.pos += Math.max(0, keyLength)
    const valueLength = cursor.varint()
    const value = valueLength >= 0 ? data.subarray(cursor.pos, cursor.pos + valueLength) : null
    cursor.pos += Math.max(0, valueLength)
    headers.push([key, value])
  }
  return headers
}

/** BigInts of small record offset deltas, made once: saves an allocation per record. */
const smallBigInts: bigint[] = Array.from({ length: 1 << 14 }, (_, i) => BigInt(i))

function smallBigInt(value: number): bigint {
  return value < smallBigInts.length ? smallBigInts[value]! : BigInt(value)
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
  skips(batch: RecordBatchHeader, lastOffset: bigint): boolean {
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

/** Reads the key of a control batch's only record: int16 version, int16 type. */
function isAbortMarker(batch: RecordBatchHeader): boolean {
  const { data, start } = recordsSection(batch)
  const cursor = new RecordCursor(data, start)
  cursor.varint() // length
  cursor.pos++ // attributes
  cursor.varlong() // timestamp delta
  cursor.varint() // offset delta
  const keyLength = cursor.varint()
  return keyLength >= 4 && data.readInt16BE(cursor.pos + 2) === abortMarkerType
}
