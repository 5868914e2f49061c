import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type Chunks, chunked, recordsOf, toAsyncChunks } from '../../src/rdd/chunks.ts'
import { arrayFromAsync } from './support.ts'

async function* source(): Chunks<number> {
  yield [1, 2, 3]
  yield []
  yield [4]
}

test('recordsOf flattens chunks; chunked groups records; toAsyncChunks accepts sync chunk sources', async () => {
  assert.deepEqual(await arrayFromAsync(recordsOf(source())), [1, 2, 3, 4])
  assert.deepEqual(await arrayFromAsync(chunked([1, 2, 3, 4, 5], 2)), [[1, 2], [3, 4], [5]])
  assert.deepEqual(await arrayFromAsync(chunked([], 2)), [])
  assert.deepEqual(await arrayFromAsync(toAsyncChunks([[1], [2, 3]])), [[1], [2, 3]])
  const asyncSource = source()
  assert.equal(toAsyncChunks(asyncSource), asyncSource)
})
