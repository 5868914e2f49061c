import assert from 'node:assert/strict'
import { test } from 'node:test'
import { batchHeaders, computedCrcOf, firstCorruptBatch } from '../../src/kafka/record-batch.ts'
import { encodeBatch } from '../helpers/record-batches.ts'

const small = () =>
  encodeBatch({
    firstOffset: 7n,
    records: [
      { key: 'k', value: 'first', headers: [['h', 'x']] },
      { key: null, value: 'second' },
      { value: null },
    ],
  })

test('a batch as Kafka writes it carries the CRC-32C of its bytes from the attributes on', () => {
  const [header] = batchHeaders(small())
  assert.equal(header!.crc, computedCrcOf(header!))
  assert.equal(firstCorruptBatch(batchHeaders(small())), undefined)
})

test('flipping any byte the CRC covers, or the CRC itself, is detected', () => {
  const intact = small()
  // Bytes 17-20 hold the CRC; it covers byte 21 (attributes) to the end. Before 17 come the
  // base offset, length, leader epoch and magic, which Kafka leaves out of the checksum.
  for (let position = 17; position < intact.length; position++) {
    for (const mask of [0x01, 0x80, 0xff]) {
      const damaged = Buffer.from(intact)
      damaged[position]! ^= mask
      const corrupt = firstCorruptBatch(batchHeaders(damaged))
      assert.ok(corrupt, `byte ${position} xor 0x${mask.toString(16)} went unnoticed`)
      assert.equal(corrupt.firstOffset, 7n)
    }
  }
})

test('the first corrupt batch of a record set is the one reported', () => {
  const second = encodeBatch({ firstOffset: 10n, records: [{ value: 'a' }, { value: 'b' }] })
  second[second.length - 1]! ^= 0x01
  const set = Buffer.concat([small(), second, encodeBatch({ firstOffset: 12n, records: [{ value: 'c' }] })])
  assert.equal(firstCorruptBatch(batchHeaders(set))?.firstOffset, 10n)
})
