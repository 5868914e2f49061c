import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes } from '../../src/core/errors.ts'
import { fromSource } from '../../src/rdd/source-rdd.ts'
import { quietRunner } from './support.ts'

test('fromSource calls the function per task attempt, with sync or async chunk sources', async () => {
  const runner = quietRunner()
  const calls: number[] = []
  const rdd = fromSource(
    2,
    (partition, ctx) => {
      calls.push(partition)
      if (partition === 0) return [[`p0 attempt ${ctx.attempt}`]]
      return (async function* () {
        yield ['p1 a', 'p1 b']
      })()
    },
    { runner },
  )
  assert.deepEqual(await rdd.collect(), ['p0 attempt 1', 'p1 a', 'p1 b'])
  assert.deepEqual(await rdd.collect(), ['p0 attempt 1', 'p1 a', 'p1 b'])
  assert.deepEqual(calls.sort(), [0, 0, 1, 1])
})

test('fromSource rejects a bad partition count at construction', () => {
  assert.throws(() => fromSource(-1, () => []), {
    code: ErrorCodes.INVALID_OPTION,
    message: "option 'numPartitions' must be at least 1, got -1",
  })
})
