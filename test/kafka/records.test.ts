import assert from 'node:assert/strict'
import { test } from 'node:test'
import { inspect } from 'node:util'
import { ErrorCodes, type SluiceError } from '../../src/core/errors.ts'
import { batchHeaders, endOffsetOf } from '../../src/kafka/record-batch.ts'
import { decodeFetch, type UndecodableRecord } from '../../src/kafka/records.ts'
import { BatchAttributes, type FetchResult } from '../../src/kafka/types.ts'
import { defaultKeySerializer } from '../../src/rdd/key-serializer.ts'
import { resolveDeserializer } from '../../src/source/deserializers.ts'
import { encodeBatch, encodeMarker, type TestRecord } from '../helpers/record-batches.ts'

const text = resolveDeserializer<string>('string', 'value')
const values = (...list: (string | null)[]): TestRecord[] => list.map((value) => ({ value }))

function fetched(
  batches: Buffer[],
  aborted: { producerId: bigint; firstOffset: bigint }[] = [],
): FetchResult {
  return {
    topic: 't',
    partition: 3,
    highWatermark: 100n,
    lastStableOffset: 100n,
    logStartOffset: 0n,
    recordSet: Buffer.concat(batches),
    abortedTransactions: aborted,
  }
}

const decode = (result: FetchResult, from: bigint, until: bigint, readCommitted = true) =>
  decodeFetch(result, { from, until, readCommitted, key: text, value: text })

test('trims the head of a batch below from and stops at until', () => {
  const result = fetched([
    encodeBatch({ firstOffset: 0n, records: values('a', 'b', 'c', 'd') }),
    encodeBatch({ firstOffset: 4n, records: values('e', 'f') }),
  ])
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

test('a batch cut short at the end of a response is left for the next fetch', () => {
  const whole = encodeBatch({ firstOffset: 0n, records: values('a', 'b') })
  const cut = encodeBatch({ firstOffset: 2n, records: values('c', 'd') }).subarray(0, 40)
  const result = fetched([whole, cut])
  assert.equal(batchHeaders(result.recordSet!).length, 1)
  assert.equal(endOffsetOf(batchHeaders(result.recordSet), 0n), 2n)
  assert.deepEqual(
    decode(result, 0n, 10n).records.map((r) => r.value),
    ['a', 'b'],
  )
})

test('gaps from compaction are tolerated and nextOffset moves past the batch end', () => {
  // offsets 10, 13, 17 survive; the batch still covers 10..19
  const batch = encodeBatch({
    firstOffset: 10n,
    lastOffsetDelta: 9,
    records: [
      { value: 'x', offsetDelta: 0 },
      { value: 'y', offsetDelta: 3 },
      { value: 'z', offsetDelta: 7 },
    ],
  })
  const chunk = decode(fetched([batch]), 11n, 30n)
  assert.deepEqual(
    chunk.records.map((r) => [r.offset, r.value]),
    [
      [13n, 'y'],
      [17n, 'z'],
    ],
  )
  assert.equal(chunk.nextOffset, 20n)
})

test('control batches are skipped and aborted transactions hidden under read_committed only', () => {
  const txn = (firstOffset: bigint, producerId: bigint, ...list: string[]) =>
    encodeBatch({
      firstOffset,
      attributes: BatchAttributes.TRANSACTIONAL,
      producerId,
      records: values(...list),
    })
  const result = fetched(
    [
      txn(0n, 7n, 'committed-1', 'committed-2'),
      encodeMarker(2n, 7n, 'commit'),
      txn(3n, 8n, 'aborted-1', 'aborted-2'),
      encodeBatch({ firstOffset: 5n, records: values('plain') }),
      txn(6n, 8n, 'aborted-3'),
      encodeMarker(7n, 8n, 'abort'),
      txn(8n, 8n, 'after'),
      encodeMarker(9n, 8n, 'commit'),
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
  const create = decode(
    fetched([encodeBatch({ firstOffset: 0n, records: values('a', 'b') })]),
    0n,
    2n,
  ).records
  assert.deepEqual(
    create.map((r) => r.timestamp),
    [1000, 1001],
  )
  const append = decode(
    fetched([
      encodeBatch({
        firstOffset: 0n,
        attributes: BatchAttributes.LOG_APPEND_TIME,
        maxTimestamp: 5000n,
        records: values('a', 'b'),
      }),
    ]),
    0n,
    2n,
  ).records
  assert.deepEqual(
    append.map((r) => r.timestamp),
    [5000, 5000],
  )
})

test('keys, null values, headers and every compression codec decode the same', () => {
  for (const compression of [undefined, 'gzip', 'snappy', 'lz4', 'zstd'] as const) {
    const batch = encodeBatch({
      firstOffset: 40n,
      ...(compression ? { compression } : {}),
      records: [
        { key: 'k1', value: 'v1', headers: [['h', 'x']] },
        {
          key: null,
          value: null,
          headers: [
            ['a', null],
            ['b', ''],
          ],
        },
        { key: 'k3', value: 'ünïcödé' },
      ],
    })
    const records = decode(fetched([batch]), 40n, 43n).records
    assert.deepEqual(
      records.map((r) => [r.offset, r.key, r.value, r.headers.map(([k, v]) => [k, v?.toString() ?? null])]),
      [
        [40n, 'k1', 'v1', [['h', 'x']]],
        [
          41n,
          null,
          null,
          [
            ['a', null],
            ['b', ''],
          ],
        ],
        [42n, 'k3', 'ünïcödé', []],
      ],
      `compression ${compression ?? 'none'}`,
    )
  }
})

test('a failing decoder names the coordinates; buffers come as views of the fetched bytes', () => {
  const result = fetched([encodeBatch({ firstOffset: 40n, records: values('{"ok":1}', '{bad') })])
  const json = resolveDeserializer<unknown>('json', 'value')
  assert.throws(
    () => decodeFetch(result, { from: 40n, until: 42n, readCommitted: true, key: text, value: json }),
    (error: SluiceError) =>
      error.code === ErrorCodes.DESERIALIZATION &&
      error.message.startsWith('could not deserialize the value of t-3 at offset 41:') &&
      error.details.offset === 41n,
  )
  // A custom deserializer, the 'buffer' built-in and header values get views of the fetched
  // bytes themselves: no copy per record.
  const withHeader = fetched([
    encodeBatch({ firstOffset: 40n, records: [{ value: '{"ok":1}', headers: [['trace', 'abc']] }] }),
  ])
  const bytes = withHeader.recordSet!
  const viewOf = (text: string) => ({
    buffer: bytes.buffer,
    byteOffset: bytes.byteOffset + bytes.indexOf(text),
  })
  const seen: Buffer[] = []
  const custom = decodeFetch(withHeader, {
    from: 40n,
    until: 41n,
    readCommitted: true,
    key: text,
    value: resolveDeserializer((b: Buffer) => {
      seen.push(b)
      return b.length
    }, 'value'),
  })
  assert.equal(custom.records[0]?.value, 8)
  const raw = decodeFetch(withHeader, {
    from: 40n,
    until: 41n,
    readCommitted: true,
    key: text,
    value: resolveDeserializer<Buffer>('buffer', 'value'),
  })
  const header = raw.records[0]!.headers[0]![1]!
  for (const [what, view, content] of [
    ['custom deserializer', seen[0]!, '{"ok":1}'],
    ["'buffer' value", raw.records[0]!.value!, '{"ok":1}'],
    ['header value', header, 'abc'],
  ] as const) {
    assert.equal(view.toString(), content, what)
    assert.deepEqual({ buffer: view.buffer, byteOffset: view.byteOffset }, viewOf(content), `${what}: a view`)
  }
})

test('with onUndecodable, a record whose key or value fails is handed over raw and left out; the others decode', () => {
  const json = resolveDeserializer<unknown>('json', 'value')
  const result = fetched([
    encodeBatch({
      firstOffset: 40n,
      firstTimestamp: 1_700_000_000_000n,
      records: [
        { key: 'k0', value: '{"n":0}' },
        {
          key: 'k1',
          value: 'not json',
          headers: [
            ['trace', 'abc'],
            ['trace', null],
          ],
        },
        { key: null, value: '{"n":2}' },
        { key: '{bad key', value: null },
        { key: 'k4', value: '{"n":4}' },
      ],
    }),
  ])
  const taken: UndecodableRecord[] = []
  const chunk = decodeFetch(result, {
    from: 40n,
    until: 45n,
    readCommitted: true,
    key: json,
    value: json,
    onUndecodable: (record) => taken.push(record),
  })
  // '"k0"' is not JSON either: keys are JSON here, so only the null key and none other decode.
  assert.deepEqual(
    chunk.records.map((r) => [r.offset, r.key, r.value]),
    [[42n, null, { n: 2 }]],
  )
  assert.equal(chunk.nextOffset, 45n)
  assert.deepEqual(
    taken.map((r) => [
      r.offset,
      r.key?.toString() ?? null,
      r.value?.toString() ?? null,
      r.error.details.part,
    ]),
    [
      [40n, 'k0', '{"n":0}', 'key'],
      [41n, 'k1', 'not json', 'key'],
      [43n, '{bad key', null, 'key'],
      [44n, 'k4', '{"n":4}', 'key'],
    ],
  )
  const second = decodeFetch(result, {
    from: 40n,
    until: 45n,
    readCommitted: true,
    key: text,
    value: json,
    onUndecodable: (record) => taken.push(record),
  })
  assert.deepEqual(
    second.records.map((r) => r.offset),
    [40n, 42n, 43n, 44n],
  )
  const bad = taken.at(-1)!
  assert.equal(taken.length, 5)
  assert.equal(bad.topic, 't')
  assert.equal(bad.partition, 3)
  assert.equal(bad.offset, 41n)
  assert.equal(bad.timestamp, 1_700_000_000_001)
  assert.equal(bad.error.code, ErrorCodes.DESERIALIZATION)
  assert.match(bad.error.message, /^could not deserialize the value of t-3 at offset 41: /)
  assert.deepEqual(
    bad.headers.map(([name, value]) => [name, value?.toString() ?? null]),
    [
      ['trace', 'abc'],
      ['trace', null],
    ],
  )
  // Copies: the fetch buffer may be released while the record waits for its dead-letter topic.
  result.recordSet!.fill(0)
  assert.equal(bad.value!.toString(), 'not json')
  assert.equal(bad.key!.toString(), 'k1')
  assert.equal(bad.headers[0]![1]!.toString(), 'abc')
})

test('records show and serialize every field although offset and timestamp are computed when read', () => {
  const result = fetched([
    encodeBatch({ firstOffset: 40n, records: [{ key: 'k', value: 'a' }, { value: 'a' }] }),
  ])
  const [first, second] = decode(result, 40n, 42n).records
  assert.equal(first!.offset, 40n)
  assert.equal(second!.offset, 41n)
  assert.match(inspect(first), /offset: 40n/)
  assert.match(inspect(first), /timestamp: 1000/)
  // Two records with the same content are different shuffle keys: their offsets differ.
  assert.notEqual(defaultKeySerializer(second), defaultKeySerializer({ ...second! }))
  assert.equal(defaultKeySerializer(second).includes('"offset":41n'), true)
  assert.throws(() => JSON.stringify(first), /BigInt/)
})
