import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  type Chunks,
  chunked,
  filterChunks,
  flatMapChunks,
  mapChunks,
  recordsOf,
  toAsyncChunks,
} from '../../src/rdd/chunks.ts'
import type { TaskContext } from '../../src/rdd/task-context.ts'
import { arrayFromAsync } from './support.ts'

const ctx: TaskContext = {
  jobId: 1,
  nodeId: 1,
  partition: 0,
  attempt: 1,
  signal: new AbortController().signal,
}

async function* source(): Chunks<number> {
  yield [1, 2, 3]
  yield []
  yield [4]
}

test('chunk transforms work a chunk at a time and drop chunks left empty', async () => {
  assert.deepEqual(await arrayFromAsync(mapChunks((n: number) => n * 10)(source(), ctx)), [
    [10, 20, 30],
    [40],
  ])
  assert.deepEqual(await arrayFromAsync(filterChunks((n: number) => n !== 4)(source(), ctx)), [[1, 2, 3]])
  assert.deepEqual(await arrayFromAsync(flatMapChunks((n: number) => (n % 2 ? [n, n] : []))(source(), ctx)), [
    [1, 1, 3, 3],
  ])
})

test('recordsOf flattens chunks; chunked groups records; toAsyncChunks accepts sync chunk sources', async () => {
  assert.deepEqual(await arrayFromAsync(recordsOf(source())), [1, 2, 3, 4])
  assert.deepEqual(await arrayFromAsync(chunked([1, 2, 3, 4, 5], 2)), [[1, 2], [3, 4], [5]])
  assert.deepEqual(await arrayFromAsync(chunked([], 2)), [])
  assert.deepEqual(await arrayFromAsync(toAsyncChunks([[1], [2, 3]])), [[1], [2, 3]])
  const asyncSource = source()
  assert.equal(toAsyncChunks(asyncSource), asyncSource)
})
