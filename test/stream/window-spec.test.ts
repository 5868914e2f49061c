import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  emitsAt,
  enteringSpan,
  leavingSpan,
  resolveWindow,
  spanIds,
  type WindowSpec,
  windowSpan,
} from '../../src/stream/window-spec.ts'

test('lengths and slides become batch counts; slide defaults to one batch', () => {
  assert.deepEqual(resolveWindow(1000, 30_000, 5000), { lengthBatches: 30, slideBatches: 5 })
  assert.deepEqual(resolveWindow(1000, 3000, undefined), { lengthBatches: 3, slideBatches: 1 })
  assert.throws(() => resolveWindow(1000, 3000, 1500), {
    message: "option 'slide' must be a multiple of the batch interval (1000 ms), got 1500",
  })
})

test('a window is emitted every slide and covers the last length batches, clipped at 0', () => {
  const spec: WindowSpec = { lengthBatches: 4, slideBatches: 2 }
  assert.deepEqual(
    Array.from({ length: 8 }, (_, b) => b).filter((b) => emitsAt(spec, b)),
    [1, 3, 5, 7],
  )
  assert.deepEqual(spanIds(windowSpan(spec, 1)), [0, 1])
  assert.deepEqual(spanIds(windowSpan(spec, 7)), [4, 5, 6, 7])
})

test('entering and leaving batches turn the previous window into the next one', () => {
  for (const [length, slide] of [
    [4, 2],
    [5, 1],
    [3, 3],
    [2, 5], // windows with gaps between them
    [1, 1],
  ] as const) {
    const spec = { lengthBatches: length, slideBatches: slide }
    for (let b = slide - 1; b < 30; b += slide) {
      const previous = b - slide >= 0 ? spanIds(windowSpan(spec, b - slide)) : []
      const next = previous
        .filter((id) => !spanIds(leavingSpan(spec, b)).includes(id))
        .concat(spanIds(enteringSpan(spec, b)))
      assert.deepEqual(next, spanIds(windowSpan(spec, b)), `length ${length}, slide ${slide}, batch ${b}`)
      for (const id of spanIds(leavingSpan(spec, b)))
        assert.ok(previous.includes(id), 'only batches of the previous window leave')
    }
  }
})
