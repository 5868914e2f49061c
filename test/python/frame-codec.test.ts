import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { decodePayload, encodeFrame, FrameReader } from '../../src/python/frame-codec.ts'

interface Vector {
  readonly name: string
  readonly value: unknown
  readonly frame: string
}

const vectorFile = join(import.meta.dirname, '..', 'fixtures', 'frames', 'vectors.json')
const { vectors } = JSON.parse(readFileSync(vectorFile, 'utf8')) as { vectors: Vector[] }

/** The vectors' tagged JSON to the values msgpackr decodes. */
function untag(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(untag)
  if (value === null || typeof value !== 'object') return value
  const tagged = value as Record<string, unknown>
  if (typeof tagged.$bytes === 'string') return Buffer.from(tagged.$bytes, 'hex')
  if (typeof tagged.$float === 'string') return Number(tagged.$float)
  if (typeof tagged.$int === 'string') {
    const big = BigInt(tagged.$int)
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(big)
      : big
  }
  return Object.fromEntries(Object.entries(tagged).map(([key, field]) => [key, untag(field)]))
}

test('the shared vectors are there and cover every msgpack family the protocol uses', () => {
  assert.ok(vectors.length >= 30)
  const firstBytes = new Set(vectors.map((v) => v.frame.slice(8, 10)))
  for (const family of [
    'c0',
    'cc',
    'cd',
    'ce',
    'cf',
    'd0',
    'd1',
    'd2',
    'd3',
    'cb',
    'd9',
    'da',
    'c4',
    'dc',
    'de',
  ]) {
    assert.ok(firstBytes.has(family), `a vector starts with 0x${family}`)
  }
})

for (const vector of vectors) {
  test(`frame vector '${vector.name}': decodes to its value and re-encodes byte for byte`, () => {
    const frame = Buffer.from(vector.frame, 'hex')
    const [payload, ...rest] = new FrameReader('the vector file').push(frame)
    assert.equal(rest.length, 0)
    const decoded = decodePayload(payload!)
    assert.deepEqual(decoded, untag(vector.value))
    assert.equal(encodeFrame(decoded).toString('hex'), vector.frame)
    assert.equal(encodeFrame(untag(vector.value)).toString('hex'), vector.frame)
  })
}

test('FrameReader reassembles frames split at every byte boundary and joined together', () => {
  const all = Buffer.concat(vectors.map((v) => Buffer.from(v.frame, 'hex')))
  for (const step of [1, 2, 3, 7, 64, all.length]) {
    const reader = new FrameReader('a test')
    const payloads: Buffer[] = []
    for (let at = 0; at < all.length; at += step) payloads.push(...reader.push(all.subarray(at, at + step)))
    assert.equal(payloads.length, vectors.length, `step ${step}`)
    assert.equal(reader.bufferedBytes, 0)
    payloads.forEach((payload, i) => {
      assert.equal(encodeFrame(decodePayload(payload)).toString('hex'), vectors[i]!.frame)
    })
  }
})

test('FrameReader refuses a length beyond the limit, naming the peer', () => {
  const reader = new FrameReader('the Python driver')
  assert.throws(
    () => reader.push(Buffer.from([0xff, 0xff, 0xff, 0xff])),
    (error: Error) => /the Python driver sent a frame of 4294967295 bytes/.test(error.message),
  )
})

test('bigints and numbers beyond 32 bits encode as msgpack integers, never as floats', () => {
  const frame = encodeFrame({ offset: 2n ** 40n, time: 1_767_225_600_000, small: 5n, negative: -(2 ** 40) })
  const decoded = decodePayload(frame.subarray(4)) as Record<string, unknown>
  assert.deepEqual(decoded, { offset: 2 ** 40, time: 1_767_225_600_000, small: 5, negative: -(2 ** 40) })
  assert.ok(!frame.includes(0xcb), 'no float64 marker')
})
