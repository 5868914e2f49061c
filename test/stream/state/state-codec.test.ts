import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes, isSluiceError } from '../../../src/core/errors.ts'
import { encodeForSnapshot, nonJsonPath, resolveCodec } from '../../../src/stream/state/state-codec.ts'

class Point {
  x = 1
}

test('plain JSON passes; anything that would not read back equal is found, with its path', () => {
  for (const value of ['s', 1.5, -0, true, null, [1, 'a', [null]], { a: { b: [1, { c: 'd' }] } }]) {
    assert.equal(nonJsonPath(value), undefined, JSON.stringify(value))
  }
  assert.deepEqual(nonJsonPath(1n), { path: '', value: 1n })
  assert.deepEqual(nonJsonPath({ a: [1, Number.NaN] }), { path: '.a[1]', value: Number.NaN })
  assert.equal(nonJsonPath({ when: new Date(0) })?.path, '.when')
  assert.equal(nonJsonPath({ m: new Map() })?.path, '.m')
  assert.equal(nonJsonPath([new Point()])?.path, '[0]')
  assert.equal(nonJsonPath({ u: undefined })?.path, '.u')
  assert.equal(nonJsonPath(Object.create(null)), undefined)
})

test('encoding names the stream, the key and the codec option to give', () => {
  const json = resolveCodec<unknown>('stateCodec', undefined)
  const what = { stream: 'totals', role: 'state' as const, key: 'k1' }
  assert.deepEqual(encodeForSnapshot(json, { n: 1 }, what), { n: 1 })
  const expectMessage = (fn: () => unknown, message: string) =>
    assert.throws(fn, (error) => isSluiceError(error, ErrorCodes.STATE) && error.message === message)
  expectMessage(
    () => encodeForSnapshot(json, { when: new Date(0) }, what),
    `state stream 'totals' cannot snapshot the state of key "k1": state.when is a Date, which plain JSON cannot hold; give the stateful operation a stateCodec that encodes it as JSON`,
  )
  expectMessage(
    () =>
      encodeForSnapshot(resolveCodec<unknown>('keyCodec', undefined), 7n, { ...what, role: 'key', key: 7n }),
    `state stream 'totals' cannot snapshot key 7n: key is a bigint, which plain JSON cannot hold; give the stateful operation a keyCodec that encodes it as JSON`,
  )
  const failing = resolveCodec<number>('stateCodec', {
    name: 'strict',
    encode: () => {
      throw new Error('no')
    },
    decode: (j) => j as number,
  })
  expectMessage(
    () => encodeForSnapshot(failing, 1, what),
    `state stream 'totals': stateCodec 'strict' failed to encode the state of key "k1": no`,
  )
})

test('codecs are checked when declared; an unnamed one is called custom', () => {
  assert.equal(resolveCodec('keyCodec', { encode: String, decode: Number }).name, 'custom')
  assert.throws(() => resolveCodec('keyCodec', 3 as never), /option 'keyCodec' must be an object/)
  assert.throws(
    () => resolveCodec('keyCodec', { name: '', encode: String, decode: Number }),
    /option 'keyCodec.name'/,
  )
})
