import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes, type SluiceError } from '../../src/core/errors.ts'
import { decodeFetch } from '../../src/kafka/records.ts'
import { BatchAttributes, type FetchResult, type RecordBatch } from '../../src/kafka/types.ts'

const text = (b: Buffer) => b.toString()

function batch(
  firstOffset: bigint,
  values: (string | null)[],
  extra: Partial<RecordBatch> = {},
  deltas?: number[],
): RecordBatch {
  const offsetDeltas = deltas ?? values.map((_, i) => i)
  return {
    firstOffset,
    lastOffsetDelta: offsetDeltas.at(-1) ?? 0,
    attributes: 0,
    firstTimestamp: 1000n,
    maxTimestamp: 1000n + BigInt(values.length),
    producerId: -1n,
    records: values.map((v, i) => ({
      offsetDelta: offsetDeltas[i]!,
      timestampDelta: BigInt(i),
      key: null,
      value: v === null ? null : Buffer.from(v),
      headers: [],
    })),
    ...extra,
  }
}

function marker(offset: bigint, producerId: bigint, type: 'abort' | 'commit'): RecordBatch {
  const key = Buffer.alloc(4)
  key.writeInt16BE(0, 0)
  key.writeInt16BE(type === 'abort' ? 0 : 1, 2)
  return {
    ...batch(offset, ['']),
    attributes: BatchAttributes.CONTROL | BatchAttributes.TRANSACTIONAL,
    producerId,
    records: [{ offsetDelta: 0, timestampDelta: 0n, key, value: Buffer.alloc(6), headers: [] }],
  }
}

function fetched(
  batches: RecordBatch[],
  aborted: { producerId: bigint; firstOffset: bigint }[] = [],
): FetchResult {
  return {
    topic: 't',
    partition: 3,
    highWatermark: 100n,
    lastStableOffset: 100n,
    logStartOffset: 0n,
    batches,
    abortedTransactions: aborted,
  }
}

const decode = (result: FetchResult, from: bigint, until: bigint, readCommitted = true) =>
  decodeFetch(result, { from, until, readCommitted, key: text, value: text })

test('trims the head of a batch below from and stops at until', () => {
  const result = fetched([batch(0n, ['a', 'b', 'c', 'd']), batch(4n, ['e', 'f'])])
  const chunk = decode(result, 2n, 5n)
  assert.deepEqual(
    chunk.records.map((r) => [r.offset, r.value]),
    [
      [2n, 'c'],
      [3n, 'd'],
      [4n, 'e'],
    ],
  )
  assert.equal(chunk.nextOffset, 6n)
})

test('gaps from compaction are tolerated and nextOffset moves past the batch end', () => {
  // offsets 10, 13, 17 survive; the batch still covers 10..19
  const result = fetched([batch(10n, ['x', 'y', 'z'], { lastOffsetDelta: 9 }, [0, 3, 7])])
  const chunk = decode(result, 11n, 30n)
  assert.deepEqual(
    chunk.records.map((r) => r.offset),
    [13n, 17n],
  )
  assert.equal(chunk.nextOffset, 20n)
})

test('control batches are skipped and aborted transactions hidden under read_committed only', () => {
  const txn = { attributes: BatchAttributes.TRANSACTIONAL }
  const result = fetched(
    [
      batch(0n, ['committed-1', 'committed-2'], { ...txn, producerId: 7n }),
      marker(2n, 7n, 'commit'),
      batch(3n, ['aborted-1', 'aborted-2'], { ...txn, producerId: 8n }),
      batch(5n, ['plain']),
      batch(6n, ['aborted-3'], { ...txn, producerId: 8n }),
      marker(7n, 8n, 'abort'),
      batch(8n, ['after'], { ...txn, producerId: 8n }),
      marker(9n, 8n, 'commit'),
    ],
    [{ producerId: 8n, firstOffset: 3n }],
  )
  assert.deepEqual(
    decode(result, 0n, 10n).records.map((r) => r.value),
    ['committed-1', 'committed-2', 'plain', 'after'],
  )
  assert.deepEqual(
    decode(result, 0n, 10n, false).records.map((r) => r.value),
    ['committed-1', 'committed-2', 'aborted-1', 'aborted-2', 'plain', 'aborted-3', 'after'],
  )
  assert.equal(decode(result, 0n, 10n).nextOffset, 10n)
})

test('timestamps: create time from deltas, log-append time from the batch', () => {
  const create = decode(fetched([batch(0n, ['a', 'b'])]), 0n, 2n).records
  assert.deepEqual(
    create.map((r) => r.timestamp),
    [1000, 1001],
  )
  const append = decode(
    fetched([batch(0n, ['a', 'b'], { attributes: BatchAttributes.LOG_APPEND_TIME, maxTimestamp: 5000n })]),
    0n,
    2n,
  ).records
  assert.deepEqual(
    append.map((r) => r.timestamp),
    [5000, 5000],
  )
})

test('null values stay null without calling the decoder; a failing decoder names the coordinates', () => {
  const result = fetched([batch(40n, [null, '{bad'])])
  const json = (b: Buffer) => JSON.parse(b.toString())
  assert.throws(
    () => decodeFetch(result, { from: 40n, until: 42n, readCommitted: true, key: text, value: json }),
    (error: SluiceError) =>
      error.code === ErrorCodes.DESERIALIZATION &&
      error.message.startsWith('could not deserialize the value of t-3 at offset 41:') &&
      error.details.offset === 41n,
  )
  const ok = decodeFetch(result, { from: 40n, until: 41n, readCommitted: true, key: text, value: json })
  assert.equal(ok.records[0]?.value, null)
})
