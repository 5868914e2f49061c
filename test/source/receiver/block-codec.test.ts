import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes, isSluiceError } from '../../../src/core/errors.ts'
import type { ConsumedRecord } from '../../../src/kafka/group-consumer.ts'
import { resolveDeserializer } from '../../../src/source/deserializers.ts'
import {
  BlockBuilder,
  decodeBlockHeader,
  decodeBlockRecords,
} from '../../../src/source/receiver/block-codec.ts'

function consumed(
  topic: string,
  partition: number,
  offset: number,
  value: string | null,
  extra: Partial<ConsumedRecord> = {},
): ConsumedRecord {
  return {
    topic,
    partition,
    offset: BigInt(offset),
    timestamp: BigInt(1_700_000_000_000 + offset),
    key: Buffer.from(`k${offset}`),
    value: value === null ? undefined : Buffer.from(value),
    headerEntries: [],
    leaderEpoch: 3,
    ...extra,
  }
}

const strings = resolveDeserializer<string>('string', 'test')

test('a block keeps every record, its spans per partition and the offsets to commit', () => {
  const builder = new BlockBuilder()
  builder.add(consumed('words', 0, 10, 'ten'))
  builder.add(consumed('words', 1, 4, null, { key: null }))
  builder.add(
    consumed('wörter', 0, 7, 'sieben', {
      headerEntries: [
        [Buffer.from('h'), Buffer.from('x')],
        [Buffer.from('n'), undefined],
      ],
    }),
  )
  builder.add(consumed('words', 0, 11, 'eleven', { leaderEpoch: 4 }))
  const { block, bytes, commits } = builder.build(42, 'r-1', 123)
  assert.equal(block.id, 42)
  assert.equal(block.records, 4)
  assert.equal(block.bytes, bytes.length)
  assert.deepEqual(
    block.spans.map((s) => [s.topic, s.partition, s.fromOffset, s.untilOffset, s.records]),
    [
      ['words', 0, 10n, 12n, 2],
      ['words', 1, 4n, 5n, 1],
      ['wörter', 0, 7n, 8n, 1],
    ],
  )
  assert.deepEqual(commits, [
    { topic: 'words', partition: 0, offset: 12n, leaderEpoch: 4 },
    { topic: 'words', partition: 1, offset: 5n, leaderEpoch: 3 },
    { topic: 'wörter', partition: 0, offset: 8n, leaderEpoch: 3 },
  ])
  const header = decodeBlockHeader(bytes)
  assert.deepEqual([header.id, header.receiver, header.time, header.records], [42, 'r-1', 123, 4])
  const records = [...decodeBlockRecords(bytes, strings, strings)].flat()
  assert.deepEqual(
    records.map((r) => [
      r.topic,
      r.partition,
      r.offset,
      r.timestamp,
      r.key,
      r.value,
      r.headers.map(([k, v]) => [k, v?.toString() ?? null]),
    ]),
    [
      ['words', 0, 10n, 1_700_000_000_010, 'k10', 'ten', []],
      ['words', 1, 4n, 1_700_000_000_004, null, null, []],
      [
        'wörter',
        0,
        7n,
        1_700_000_000_007,
        'k7',
        'sieben',
        [
          ['h', 'x'],
          ['n', null],
        ],
      ],
      ['words', 0, 11n, 1_700_000_000_011, 'k11', 'eleven', []],
    ],
  )
})

test('the builder starts empty again after each block', () => {
  const builder = new BlockBuilder()
  builder.add(consumed('t', 0, 1, 'a'))
  builder.build(1, 'r', 0)
  assert.equal(builder.records, 0)
  builder.add(consumed('t', 0, 2, 'b'))
  const { block, bytes } = builder.build(2, 'r', 0)
  assert.deepEqual(
    block.spans.map((s) => [s.fromOffset, s.untilOffset]),
    [[2n, 3n]],
  )
  assert.deepEqual(
    [...decodeBlockRecords(bytes, strings, strings)].flat().map((r) => r.value),
    ['b'],
  )
})

test('a large block grows its buffer and comes back in chunks', () => {
  const builder = new BlockBuilder()
  const value = 'x'.repeat(100)
  for (let i = 0; i < 10_000; i++) builder.add(consumed('t', 0, i, value))
  const { bytes } = builder.build(1, 'r', 0)
  const chunks = [...decodeBlockRecords(bytes, strings, strings)]
  assert.deepEqual(
    chunks.map((c) => c.length),
    [4096, 4096, 1808],
  )
  assert.equal(chunks.flat().at(-1)!.offset, 9_999n)
})

test('a deserializer that throws names the record; a malformed block is refused', () => {
  const builder = new BlockBuilder()
  builder.add(consumed('t', 3, 9, '{not json'))
  const { bytes } = builder.build(1, 'r', 0)
  const json = resolveDeserializer<unknown>('json', 'test')
  assert.throws(
    () => [...decodeBlockRecords(bytes, strings, json)],
    (error: unknown) =>
      isSluiceError(error, ErrorCodes.DESERIALIZATION) &&
      /^could not deserialize the value of t-3 at offset 9: /.test(error.message),
  )
  assert.throws(() => decodeBlockHeader(Buffer.from('nope')), /malformed/)
  assert.throws(
    () => decodeBlockHeader(bytes.subarray(0, bytes.length - 1)),
    /does not end where the block does/,
  )
})

test('given a taker, a refused record is handed over with its raw bytes, the part refused and its place, and left out', () => {
  const builder = new BlockBuilder()
  builder.add(consumed('t', 0, 1, '{"n":1}'))
  builder.add(
    consumed('t', 0, 2, '{broken', {
      headerEntries: [
        [Buffer.from('trace'), Buffer.from('abc')],
        [Buffer.from('empty'), undefined as unknown as Buffer],
      ],
    }),
  )
  builder.add(consumed('t', 1, 5, '{"n":5}', { key: Buffer.from([0xff, 0xfe]) }))
  builder.add(consumed('t', 1, 6, null))
  const { bytes } = builder.build(4, 'r', 0)
  const json = resolveDeserializer<unknown>('json', 'test')
  const strictKey = Object.assign((payload: Buffer) => {
    if (payload[0] === 0xff) throw new Error('not a key')
    return payload.toString()
  }, {})
  const taken: [string, number][] = []
  const records = [
    ...decodeBlockRecords(bytes, strictKey, json, (record, index) => {
      assert.equal(record.error.code, ErrorCodes.DESERIALIZATION)
      taken.push([record.error.message, index])
      if (record.offset === 2n) {
        assert.deepEqual(record.key, Buffer.from('k2'))
        assert.deepEqual(record.value, Buffer.from('{broken'))
        assert.deepEqual(record.headers, [
          ['trace', Buffer.from('abc')],
          ['empty', null],
        ])
        assert.equal(record.timestamp, 1_700_000_000_002)
      } else {
        assert.deepEqual(record.key, Buffer.from([0xff, 0xfe]))
        assert.deepEqual(record.value, Buffer.from('{"n":5}'))
      }
    }),
  ].flat()
  assert.deepEqual(
    records.map((r) => [r.partition, r.offset, r.value]),
    [
      [0, 1n, { n: 1 }],
      [1, 6n, null],
    ],
  )
  assert.equal(taken.length, 2)
  assert.match(taken[0]![0], /^could not deserialize the value of t-0 at offset 2: /)
  assert.equal(taken[0]![1], 1)
  assert.equal(taken[1]![0], 'could not deserialize the key of t-1 at offset 5: not a key')
  assert.equal(taken[1]![1], 2)
})
