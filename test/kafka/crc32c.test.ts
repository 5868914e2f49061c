import assert from 'node:assert/strict'
import { test } from 'node:test'
import { crc32c, crc32cImplementation, crc32cTable } from '../../src/kafka/crc32c.ts'

// CRC-32C check values from RFC 3720 (iSCSI), appendix B.4, and the classic "123456789".
const vectors: [string, Buffer, number][] = [
  ['empty', Buffer.alloc(0), 0x00000000],
  ['"123456789"', Buffer.from('123456789'), 0xe3069283],
  ['32 zero bytes', Buffer.alloc(32, 0), 0x8a9136aa],
  ['32 bytes of 0xff', Buffer.alloc(32, 0xff), 0x62a8ab43],
  ['32 ascending bytes', Buffer.from(Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e],
  ['32 descending bytes', Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c],
]

test('the native CRC-32C loads on this machine', () => {
  assert.equal(crc32cImplementation, 'native')
})

for (const [name, data, expected] of vectors) {
  test(`CRC-32C of ${name} is 0x${expected.toString(16).padStart(8, '0')}, native and table`, () => {
    assert.equal(crc32c(data), expected)
    assert.equal(crc32cTable(data), expected)
  })
}

test('the table implementation agrees with the native one on every length and alignment', () => {
  const data = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 167 + 13) & 0xff))
  for (let start = 0; start < 9; start++) {
    for (let end = start; end <= data.length; end++) {
      assert.equal(crc32cTable(data, start, end), crc32c(data.subarray(start, end)), `[${start}, ${end})`)
    }
  }
})
