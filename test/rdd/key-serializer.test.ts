import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes } from '../../src/core/errors.ts'
import { defaultKeySerializer, isValueKey, serializedKeyOf } from '../../src/rdd/key-serializer.ts'

test('value keys group as themselves; objects, arrays and functions are serialized', () => {
  for (const key of ['x', 1, 1n, true, null, undefined, Number.NaN]) assert.equal(isValueKey(key), true)
  for (const key of [{}, [], () => 1, Symbol('s')]) assert.equal(isValueKey(key), false)
  assert.equal(serializedKeyOf('x', defaultKeySerializer), undefined)
  assert.equal(serializedKeyOf({ a: 1 }, defaultKeySerializer), '{"a":1}')
})

test('the default serializer is deterministic JSON that keeps distinct keys distinct', () => {
  assert.equal(defaultKeySerializer({ b: [1, 'x'], a: 2n }), '{"a":2n,"b":[1,"x"]}')
  assert.equal(defaultKeySerializer({ a: 1, skipped: undefined }), '{"a":1}')
  assert.equal(
    defaultKeySerializer([undefined, null, Number.NaN, -0, Number.NEGATIVE_INFINITY]),
    '[undefined,null,NaN,0,-Infinity]',
  )
  assert.equal(defaultKeySerializer(new Date(0)), 'Date(1970-01-01T00:00:00.000Z)')
  assert.equal(
    defaultKeySerializer(
      new Map<unknown, number>([
        ['b', 1],
        [1n, 2],
      ]),
    ),
    defaultKeySerializer(
      new Map<unknown, number>([
        [1n, 2],
        ['b', 1],
      ]),
    ),
  )
  assert.equal(defaultKeySerializer(new Set([2, 1])), 'Set{1,2}')

  const distinct = [
    [1n],
    ['1n'],
    [1],
    ['1'],
    { a: 1 },
    new Map([['a', 1]]),
    [new Date(0)],
    ['1970-01-01T00:00:00.000Z'],
  ]
  const forms = distinct.map((key) => defaultKeySerializer(key))
  assert.equal(new Set(forms).size, distinct.length, forms.join(' | '))
})

test('keys that cannot be serialized fail with INVALID_ARGUMENT', () => {
  const cyclic: Record<string, unknown> = {}
  cyclic.self = cyclic
  assert.throws(() => defaultKeySerializer(cyclic), {
    code: ErrorCodes.INVALID_ARGUMENT,
    message: 'a shuffle key cannot contain a circular reference',
  })
  assert.throws(() => defaultKeySerializer([Symbol('s')]), {
    message: 'a symbol cannot be part of a shuffle key',
  })
  assert.throws(() => serializedKeyOf(Symbol('s'), defaultKeySerializer), {
    message: 'a symbol cannot be a shuffle key',
  })
  assert.throws(() => serializedKeyOf({}, () => 42 as unknown as string), {
    code: ErrorCodes.INVALID_ARGUMENT,
    message: 'keySerializer must return a string, got number',
  })
  const shared = { x: 1 }
  assert.equal(
    defaultKeySerializer([shared, shared]),
    '[{"x":1},{"x":1}]',
    'a repeated object is not a cycle',
  )
})
