import { ErrorCodes, isSluiceError, messageOf, SluiceError } from '../core/errors.ts'
import {
  batchHeaders,
  endOffsetOf,
  type RecordBatchHeader,
  RecordCursor,
  recordsSection,
} from './record-batch.ts'
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

/**
 * A record whose key or value the deserializer refused, with its bytes as they were fetched
 * (copied out of the fetch buffer), for a skip or a dead-letter topic.
 */
export interface UndecodableRecord {
  readonly topic: string
  readonly partition: number
  readonly offset: bigint
  readonly timestamp: number
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers: ReadonlyArray<readonly [string, Buffer | null]>
  /** SLUICE_DESERIALIZATION, naming the part (key or value), topic, partition and offset. */
  readonly error: SluiceError
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
  /**
   * Takes each record whose key or value cannot be deserialized, which is then left out of
   * the records returned. Without it the first such record fails the decode (SLUICE_DESERIALIZATION).
   */
  readonly onUndecodable?: ((record: UndecodableRecord) => void) | undefined
}

const noHeaders: ReadonlyArray<readonly [string, Buffer | null]> = Object.freeze([])
/** Control record key: int16 version, int16 type; type 0 = ABORT, 1 = COMMIT. */
const abortMarkerType = 0

/** What every record of one batch shares: kept once per batch, not once per record. */
interface BatchBase {
  readonly firstOffset: bigint
  readonly baseTimestamp: number
  readonly logAppendTime: boolean
}

/**
 * A record decoded from a fetch. `offset` and `timestamp` are computed when read, from the
 * batch's base and the record's small deltas: a bigint offset and a timestamp above 2^31 are
 * each a heap allocation in V8, and most jobs never read either, so the hot loop makes
 * neither. They are accessors on the prototype, so `{ ...record }` leaves them out: copy
 * the fields you need by name.
 */
export class FetchedRecord<K, V> implements KafkaRecord<K, V> {
  readonly topic: string
  readonly partition: number
  readonly key: K | null
  readonly value: V | null
  readonly headers: ReadonlyArray<readonly [string, Buffer | null]>
  readonly #batch: BatchBase
  readonly #offsetDelta: number
  readonly #timestampDelta: number

  constructor(
    topic: string,
    partition: number,
    batch: BatchBase,
    offsetDelta: number,
    timestampDelta: number,
    key: K | null,
    value: V | null,
    headers: ReadonlyArray<readonly [string, Buffer | null]>,
  ) {
    this.topic = topic
    this.partition = partition
    this.key = key
    this.value = value
    this.headers = headers
    this.#batch = batch
    this.#offsetDelta = offsetDelta
    this.#timestampDelta = timestampDelta
  }

  get offset(): bigint {
    return this.#batch.firstOffset + smallBigInt(this.#offsetDelta)
  }

  get timestamp(): number {
    const batch = this.#batch
    return batch.logAppendTime ? batch.baseTimestamp : batch.baseTimestamp + this.#timestampDelta
  }

  /** A plain object with every field, as console.log and util.inspect show the record. */
  toObject(): KafkaRecord<K, V> {
    const { topic, partition, offset, timestamp, key, value, headers } = this
    return { topic, partition, offset, timestamp, key, value, headers }
  }

  /**
   * The same plain object for whatever walks a value through `toJSON`: the shuffle's default
   * key serializer (a record used as a key then groups by its offset too), and
   * JSON.stringify, which fails on the bigint offset just as it does for a plain record.
   */
  toJSON(): KafkaRecord<K, V> {
    return this.toObject()
  }

  [Symbol.for('nodejs.util.inspect.custom')](
    _depth: number,
    options: object,
    inspect: (value: unknown, options: object) => string,
  ): string {
    return `FetchedRecord ${inspect(this.toObject(), options)}`
  }
}

/**
 * Decodes one fetch response into exactly the records with `from <= offset < until`:
 * batches that start below `from` are trimmed, control batches (transaction markers) are
 * skipped, and under read_committed the batches of aborted transactions are dropped using
 * the response's aborted-transaction list — the same procedure Kafka's Java consumer uses.
 * Offsets missing inside the range (compaction, markers) are simply not there: nothing
 * here counts records. Skipped batches are never decoded, only their headers read.
 *
 * Records come out in slices of at most `maxRecords` (`next`), decoded only when asked for:
 * a slice is processed and dropped while it is still in V8's young generation, where dead
 * objects cost nothing, instead of a whole fetch of records surviving into the old one.
 */
export class FetchDecoder<K, V> {
  readonly #result: FetchResult
  readonly #batches: readonly RecordBatchHeader[]
  readonly #options: DecodeOptions<K, V>
  readonly #aborted: AbortTracker | undefined
  #batchIndex = 0
  /** The batch being decoded, and where its next record starts. */
  #current: BatchCursor | undefined

  constructor(result: FetchResult, batches: readonly RecordBatchHeader[], options: DecodeOptions<K, V>) {
    this.#result = result
    this.#batches = batches
    this.#options = options
    this.#aborted = options.readCommitted ? new AbortTracker(result.abortedTransactions) : undefined
  }

  /** Up to `maxRecords` more records; an empty array once the fetch is used up. */
  next(maxRecords: number): KafkaRecord<K, V>[] {
    const out: KafkaRecord<K, V>[] = []
    while (out.length < maxRecords) {
      const cursor = this.#current ?? this.#nextBatch()
      if (cursor === undefined) break
      if (decodeRecords(this.#result, cursor, this.#options, out, maxRecords)) this.#current = undefined
      else this.#current = cursor
    }
    return out
  }

  #nextBatch(): BatchCursor | undefined {
    const { from, until } = this.#options
    while (this.#batchIndex < this.#batches.length) {
      const batch = this.#batches[this.#batchIndex++]!
      const lastOffset = batch.firstOffset + BigInt(batch.lastOffsetDelta)
      if (this.#aborted?.skips(batch, lastOffset)) continue
      if ((batch.attributes & BatchAttributes.CONTROL) !== 0) continue
      if (lastOffset < from) continue
      if (batch.firstOffset >= until) {
        this.#batchIndex = this.#batches.length
        return undefined
      }
      return startBatch(batch, lastOffset, from, until)
    }
    return undefined
  }
}

export interface DecodedChunk<K, V> {
  readonly records: KafkaRecord<K, V>[]
  /** Where the next fetch starts: one past the last offset any returned batch covered. */
  readonly nextOffset: bigint
}

/** Every record of one fetch at once (tests, small reads); `FetchDecoder` slices them. */
export function decodeFetch<K, V>(result: FetchResult, options: DecodeOptions<K, V>): DecodedChunk<K, V> {
  const batches = batchHeaders(result.recordSet)
  const records = new FetchDecoder(result, batches, options).next(Number.POSITIVE_INFINITY)
  return { records, nextOffset: endOffsetOf(batches, options.from) }
}

/** A batch being decoded: its records section, the cursor in it, and how far it may go. */
interface BatchCursor {
  readonly batch: RecordBatchHeader
  readonly base: BatchBase
  readonly cursor: RecordCursor
  readonly sectionEnd: number
  /** Records of the batch still to read. */
  remaining: number
  /** Offset deltas below this are trimmed; at or above `untilDelta` reading stops. */
  readonly fromDelta: number
  readonly untilDelta: number
}

function startBatch(batch: RecordBatchHeader, lastOffset: bigint, from: bigint, until: bigint): BatchCursor {
  const section = recordsSection(batch)
  const logAppendTime = (batch.attributes & BatchAttributes.LOG_APPEND_TIME) !== 0
  // The range as offset deltas, so that records compare as small numbers, not bigints.
  const span = lastOffset - batch.firstOffset + 1n
  const fromDelta = from <= batch.firstOffset ? 0 : Number(from - batch.firstOffset)
  const untilDelta = until - batch.firstOffset >= span ? Number(span) : Number(until - batch.firstOffset)
  return {
    batch,
    base: {
      firstOffset: batch.firstOffset,
      baseTimestamp: Number(logAppendTime ? batch.maxTimestamp : batch.firstTimestamp),
      logAppendTime,
    },
    cursor: new RecordCursor(section.data, section.start),
    sectionEnd: section.end,
    remaining: batch.recordCount,
    fromDelta,
    untilDelta,
  }
}

/** Decodes records of the batch into `out` until it is full; true when the batch is done. */
function decodeRecords<K, V>(
  result: FetchResult,
  state: BatchCursor,
  options: DecodeOptions<K, V>,
  out: KafkaRecord<K, V>[],
  maxRecords: number,
): boolean {
  const { topic, partition } = result
  const { cursor, base, sectionEnd, fromDelta, untilDelta } = state
  const data = cursor.data
  const keyDecoder = options.key
  const valueDecoder = options.value
  while (state.remaining > 0 && cursor.pos < sectionEnd) {
    if (out.length >= maxRecords) return false
    state.remaining--
    const length = cursor.varint()
    const recordEnd = cursor.pos + length
    cursor.pos++ // record attributes: unused in v2
    const timestampDelta = cursor.varlong()
    const offsetDelta = cursor.varint()
    if (offsetDelta < fromDelta) {
      cursor.pos = recordEnd
      continue
    }
    if (offsetDelta >= untilDelta) return true
    const fieldsStart = cursor.pos
    let key: K | null = null
    let value: V | null = null
    // A try block costs nothing while nothing throws: records that decode pay no extra check.
    try {
      const keyLength = cursor.varint()
      if (keyLength >= 0) {
        key = decodePayload(
          keyDecoder,
          data,
          cursor.pos,
          cursor.pos + keyLength,
          'key',
          topic,
          partition,
          base,
          offsetDelta,
        )
        cursor.pos += keyLength
      }
      const valueLength = cursor.varint()
      if (valueLength >= 0) {
        value = decodePayload(
          valueDecoder,
          data,
          cursor.pos,
          cursor.pos + valueLength,
          'value',
          topic,
          partition,
          base,
          offsetDelta,
        )
        cursor.pos += valueLength
      }
    } catch (error) {
      const onUndecodable = options.onUndecodable
      if (onUndecodable === undefined || !isSluiceError(error, ErrorCodes.DESERIALIZATION)) throw error
      onUndecodable(rawRecord(topic, partition, base, offsetDelta, timestampDelta, data, fieldsStart, error))
      cursor.pos = recordEnd
      continue
    }
    const headerCount = cursor.varint()
    const headers = headerCount <= 0 ? noHeaders : readHeaders(cursor, headerCount)
    cursor.pos = recordEnd
    out.push(new FetchedRecord(topic, partition, base, offsetDelta, timestampDelta, key, value, headers))
  }
  return true
}

function decodePayload<T>(
  decoder: PayloadDecoder<T>,
  data: Buffer,
  start: number,
  end: number,
  part: 'key' | 'value',
  topic: string,
  partition: number,
  batch: BatchBase,
  offsetDelta: number,
): T {
  try {
    return decoder.fromRange ? decoder.fromRange(data, start, end) : decoder(data.subarray(start, end))
  } catch (error) {
    throw deserializationError(part, topic, partition, batch.firstOffset + BigInt(offsetDelta), error)
  }
}

/**
 * The error of a key or value the deserializer refused (`cause`), naming the part, topic,
 * partition and offset: one wording wherever records are decoded (fetches, received blocks).
 */
export function deserializationError(
  part: 'key' | 'value',
  topic: string,
  partition: number,
  offset: bigint,
  cause: unknown,
): SluiceError {
  return new SluiceError(
    ErrorCodes.DESERIALIZATION,
    `could not deserialize the ${part} of ${topic}-${partition} at offset ${offset}: ${messageOf(cause)}`,
    { cause, details: { topic, partition, offset, part } },
  )
}

/** A record that could not be deserialized, read again from its fields as raw bytes, copied. */
function rawRecord(
  topic: string,
  partition: number,
  batch: BatchBase,
  offsetDelta: number,
  timestampDelta: number,
  data: Buffer,
  fieldsStart: number,
  error: SluiceError,
): UndecodableRecord {
  const cursor = new RecordCursor(data, fieldsStart)
  const bytes = () => {
    const length = cursor.varint()
    if (length < 0) return null
    const copy = Buffer.from(data.subarray(cursor.pos, cursor.pos + length))
    cursor.pos += length
    return copy
  }
  const key = bytes()
  const value = bytes()
  const headerCount = cursor.varint()
  const headers =
    headerCount <= 0
      ? noHeaders
      : readHeaders(cursor, headerCount).map(([name, raw]): [string, Buffer | null] => [
          name,
          raw === null ? null : Buffer.from(raw),
        ])
  return {
    topic,
    partition,
    offset: batch.firstOffset + BigInt(offsetDelta),
    timestamp: batch.logAppendTime ? batch.baseTimestamp : batch.baseTimestamp + timestampDelta,
    key,
    value,
    headers,
    error,
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
