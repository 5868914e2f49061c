import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { KafkaRecord } from '../../src/kafka/records.ts'
import { decodePayload, encodePayload } from '../../src/python/frame-codec.ts'
import { encodeKafkaChunkMessage, kafkaChunkFrame } from '../../src/python/kafka-chunk.ts'

type RawRecord = KafkaRecord<Buffer, Buffer>

function record(offset: number, value: Buffer | null, extra: Partial<RawRecord> = {}): RawRecord {
  return {
    topic: 'words',
    partition: 3,
    offset: BigInt(offset),
    timestamp: 1_700_000_000_000 + offset,
    key: null,
    value,
    headers: [],
    ...extra,
  }
}

/** What the general encoder writes for the same message: the canonical bytes. */
function canonical(taskId: number, records: readonly RawRecord[]): Buffer {
  return encodePayload(['chunk', taskId, kafkaChunkFrame(records)])
}

const cases: [string, RawRecord[]][] = [
  ['one record', [record(0, Buffer.from('to be or not'))]],
  [
    'null values and keys, empty values',
    [record(5, null), record(6, Buffer.alloc(0)), record(7, Buffer.from('x'))],
  ],
  [
    'values needing bin8, bin16 and bin32 headers',
    [record(1, Buffer.alloc(255, 1)), record(2, Buffer.alloc(256, 2)), record(3, Buffer.alloc(65_536, 3))],
  ],
  [
    'keys and headers',
    [
      record(10, Buffer.from('v'), { key: Buffer.from('k') }),
      record(11, Buffer.from('w'), {
        headers: [
          ['trace', Buffer.from('abc')],
          ['empty', null],
        ],
      }),
    ],
  ],
  ['array16 of records', Array.from({ length: 300 }, (_, i) => record(i, Buffer.from(`line ${i}`)))],
  ['array32 of records', Array.from({ length: 70_000 }, (_, i) => record(2 ** 40 + i, null))],
]

for (const [name, records] of cases) {
  test(`a Kafka chunk written straight from the records is the canonical msgpack: ${name}`, () => {
    const written = encodeKafkaChunkMessage(42, records)
    assert.ok(written.equals(canonical(42, records)))
    const [kind, taskId, frame] = decodePayload(written) as [string, number, Record<string, unknown>]
    assert.equal(kind, 'chunk')
    assert.equal(taskId, 42)
    assert.equal(frame.topic, 'words')
    assert.equal(frame.partition, 3)
    assert.deepEqual(
      frame.values,
      records.map((r) => r.value),
    )
  })
}

test('offsets and timestamps travel as little-endian int64 columns', () => {
  const frame = kafkaChunkFrame([record(2 ** 40, null), record(7, null)])
  assert.equal(frame.offsets.readBigInt64LE(0), 2n ** 40n)
  assert.equal(frame.offsets.readBigInt64LE(8), 7n)
  assert.equal(frame.timestamps.readBigInt64LE(8), BigInt(1_700_000_000_007))
  assert.equal(frame.headers, null)
})
