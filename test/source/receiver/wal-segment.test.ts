import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  encodeFrameHeader,
  FRAME_HEADER_BYTES,
  frameProblem,
  SEGMENT_HEADER,
  scanSegment,
} from '../../../src/source/receiver/wal-segment.ts'

function segmentOf(...payloads: string[]): Buffer {
  const parts: Buffer[] = [SEGMENT_HEADER]
  for (const text of payloads) {
    const payload = Buffer.from(text)
    parts.push(encodeFrameHeader(payload), payload)
  }
  return Buffer.concat(parts)
}

test('a segment scans back to its frames, each with its byte offset', () => {
  const scan = scanSegment(segmentOf('first', 'second frame', ''))
  assert.equal(scan.damage, undefined)
  assert.deepEqual(
    scan.frames.map((f) => [f.offset, f.length, f.payload.toString()]),
    [
      [8, 5, 'first'],
      [8 + FRAME_HEADER_BYTES + 5, 12, 'second frame'],
      [8 + 2 * FRAME_HEADER_BYTES + 17, 0, ''],
    ],
  )
})

test('a segment cut at any byte after its header is a torn tail at the start of the last frame', () => {
  const whole = segmentOf('alpha', 'beta')
  const secondFrame = 8 + FRAME_HEADER_BYTES + 5
  for (let length = secondFrame + 1; length < whole.length; length++) {
    const scan = scanSegment(whole.subarray(0, length))
    assert.equal(scan.frames.length, 1, `cut at ${length}`)
    assert.equal(scan.damage?.kind, 'torn-tail', `cut at ${length}`)
    assert.equal(scan.damage?.offset, secondFrame)
    assert.equal(scan.damage?.bytesAfter, length - secondFrame)
  }
  for (let length = 0; length < SEGMENT_HEADER.length; length++) {
    const scan = scanSegment(whole.subarray(0, length))
    assert.equal(scan.damage?.kind, 'torn-tail', `cut inside the header at ${length}`)
    assert.equal(scan.damage?.offset, 0)
  }
})

test('a flipped payload byte is a checksum failure at its frame, and nothing after it is read', () => {
  const bytes = segmentOf('alpha', 'beta', 'gamma')
  const secondPayload = 8 + FRAME_HEADER_BYTES + 5 + FRAME_HEADER_BYTES
  bytes[secondPayload + 1] = bytes[secondPayload + 1]! ^ 0x20
  const scan = scanSegment(bytes)
  assert.deepEqual(
    scan.frames.map((f) => f.payload.toString()),
    ['alpha'],
  )
  assert.equal(scan.damage?.kind, 'checksum')
  assert.equal(scan.damage?.offset, 8 + FRAME_HEADER_BYTES + 5)
  assert.match(scan.damage!.problem, /CRC-32 does not match/)
})

test('a file that is not a segment, and an absurd frame length, are damage', () => {
  assert.equal(scanSegment(Buffer.from('not a write-ahead log')).damage?.kind, 'bad-header')
  const bytes = segmentOf('alpha')
  bytes.writeUInt32LE(0xffffffff, 8)
  const scan = scanSegment(bytes)
  assert.equal(scan.damage?.kind, 'bad-length')
  assert.equal(scan.damage?.offset, 8)
})

test('a frame read on its own is checked against its handle', () => {
  const payload = Buffer.from('block bytes')
  const header = encodeFrameHeader(payload)
  assert.equal(frameProblem(header, payload, payload.length), undefined)
  assert.match(frameProblem(header, payload, 3)!, /handle says 3/)
  assert.match(frameProblem(header, payload.subarray(0, 4), payload.length)!, /ends 7 bytes before/)
  assert.match(
    frameProblem(header.subarray(0, 3), Buffer.alloc(0), payload.length)!,
    /before the frame header/,
  )
  const damaged = Buffer.from(payload)
  damaged[0] = damaged[0]! ^ 1
  assert.match(frameProblem(header, damaged, payload.length)!, /CRC-32/)
})
