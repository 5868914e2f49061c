import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes } from '../../src/core/errors.ts'
import { checkBatch, type SinkOffsetRange } from '../../src/sinks/batch.ts'
import { checkStoredOffsets } from '../../src/sinks/offset-check.ts'

const range = (partition: number, fromOffset: bigint, untilOffset: bigint): SinkOffsetRange => ({
  topic: 'words',
  partition,
  fromOffset,
  untilOffset,
})

function check(ranges: SinkOffsetRange[], stored: (bigint | undefined)[]) {
  return checkStoredOffsets(ranges, (r) => stored[ranges.indexOf(r)])
}

test('all partitions at from, or without a stored offset: apply', () => {
  assert.deepEqual(check([range(0, 5n, 9n), range(1, 0n, 3n)], [5n, undefined]), { kind: 'apply' })
})

test('all non-empty partitions at until: already applied; empty ones never decide', () => {
  assert.deepEqual(check([range(0, 5n, 9n), range(1, 3n, 3n)], [9n, 3n]), { kind: 'already-applied' })
  assert.deepEqual(check([range(0, 3n, 3n)], [3n]), { kind: 'apply' })
  assert.deepEqual(check([], []), { kind: 'apply' })
})

test('a stored offset neither at from nor at until is a mismatch naming that range', () => {
  const r = range(1, 10n, 20n)
  assert.deepEqual(check([range(0, 0n, 5n), r], [0n, 12n]), { kind: 'mismatch', range: r, stored: 12n })
  assert.deepEqual(check([r], [4n]), { kind: 'mismatch', range: r, stored: 4n })
})

test('some partitions applied and others not is partly-applied', () => {
  const applied = range(0, 0n, 5n)
  const pending = range(1, 10n, 20n)
  assert.deepEqual(check([applied, pending], [5n, 10n]), {
    kind: 'partly-applied',
    applied,
    pending,
    stored: 10n,
  })
  assert.deepEqual(check([applied, pending], [5n, undefined]), {
    kind: 'partly-applied',
    applied,
    pending,
    stored: undefined,
  })
})

test('checkBatch sorts ranges by topic and partition and refuses malformed batches', () => {
  const b = (offsetRanges: SinkOffsetRange[], extra = {}) => ({
    id: 3,
    time: 0,
    replay: false,
    offsetRanges,
    ...extra,
  })
  assert.deepEqual(
    checkBatch(b([{ ...range(2, 0n, 1n), topic: 'b' }, range(1, 0n, 1n), range(0, 0n, 1n)])).map(
      (r) => `${r.topic}-${r.partition}`,
    ),
    ['b-2', 'words-0', 'words-1'],
  )
  const refuse = (batch: unknown, message: string) =>
    assert.throws(() => checkBatch(batch as never), { code: ErrorCodes.INVALID_ARGUMENT, message })
  refuse(
    b([range(0, 5n, 4n)]),
    'batch 3 handed to the sink is malformed: words-0 [5, 4) is not a range (0 <= from <= until)',
  )
  refuse(
    b([range(0, 0n, 1n), range(0, 1n, 2n)]),
    'batch 3 handed to the sink is malformed: words-0 appears twice',
  )
  refuse(
    b([{ ...range(0, 0n, 1n), fromOffset: 0 as unknown as bigint }]),
    'batch 3 handed to the sink is malformed: offsets of words-0 must be bigints',
  )
  refuse(
    b([], { id: -1 }),
    'batch -1 handed to the sink is malformed: id must be a non-negative integer, got -1',
  )
})
