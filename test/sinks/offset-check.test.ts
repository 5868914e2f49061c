import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes } from '../../src/core/errors.ts'
import { checkBatch, type SinkOffsetRange } from '../../src/sinks/batch.ts'
import { checkStoredOffsets, lowestStartOf } from '../../src/sinks/offset-check.ts'

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

test('a gap covered by lost ranges is written over; an uncovered one stays a mismatch', () => {
  const r = range(0, 15n, 20n)
  const lost = [range(0, 10n, 15n)]
  const checkLost = (stored: bigint, lostRanges: SinkOffsetRange[]) =>
    checkStoredOffsets(
      [r],
      () => stored,
      () => lostRanges,
    )
  // The stream jumped from 10 to the log start 15: the sink still stands at 10.
  assert.deepEqual(checkLost(10n, lost), { kind: 'apply' })
  // Anywhere inside the declared loss is across deleted records only.
  assert.deepEqual(checkLost(12n, lost), { kind: 'apply' })
  assert.deepEqual(checkLost(15n, lost), { kind: 'apply' })
  assert.deepEqual(checkLost(20n, lost), { kind: 'already-applied' })
  // Below what the stream declared lost, or with no declaration: a real gap.
  assert.deepEqual(checkLost(9n, lost), { kind: 'mismatch', range: r, stored: 9n })
  assert.deepEqual(checkLost(10n, []), { kind: 'mismatch', range: r, stored: 10n })
  // Lost ranges chain back; a hole between them stops the chain.
  assert.deepEqual(checkLost(5n, [range(0, 5n, 10n), range(0, 10n, 15n)]), { kind: 'apply' })
  assert.deepEqual(checkLost(5n, [range(0, 5n, 9n), range(0, 10n, 15n)]), {
    kind: 'mismatch',
    range: r,
    stored: 5n,
  })
  // Lost inside the range (a re-run found part of it deleted) changes nothing for the check.
  assert.deepEqual(checkLost(15n, [range(0, 15n, 17n)]), { kind: 'apply' })
  assert.equal(lowestStartOf(r, [range(0, 3n, 7n), range(0, 7n, 15n)]), 3n)
})

test('an empty range behind a lost gap must still move: a partition elsewhere at until makes it partly applied', () => {
  const empty = range(0, 15n, 15n)
  const applied = range(1, 0n, 5n)
  const lost = [range(0, 10n, 15n)]
  const check = (stored: bigint[]) =>
    checkStoredOffsets(
      [empty, applied],
      (r) => stored[r.partition],
      (r) => (r.partition === 0 ? lost : []),
    )
  assert.deepEqual(check([10n, 0n]), { kind: 'apply' })
  assert.deepEqual(check([15n, 5n]), { kind: 'already-applied' })
  assert.deepEqual(check([10n, 5n]), { kind: 'partly-applied', applied, pending: empty, stored: 10n })
})

test('checkBatch refuses lost ranges that cannot explain a gap', () => {
  const b = (lostRanges: unknown) => ({
    id: 4,
    time: 0,
    replay: false,
    offsetRanges: [range(0, 15n, 20n)],
    lostRanges,
  })
  assert.deepEqual(checkBatch(b([range(0, 10n, 15n), range(0, 16n, 18n)]) as never), [range(0, 15n, 20n)])
  const refuse = (lostRanges: unknown, message: string) =>
    assert.throws(() => checkBatch(b(lostRanges) as never), {
      code: ErrorCodes.INVALID_ARGUMENT,
      message: `batch 4 handed to the sink is malformed: ${message}`,
    })
  refuse('x', 'lostRanges must be an array')
  refuse([range(1, 0n, 5n)], 'lost range words-1 [0, 5) is of a partition the batch does not read')
  refuse(
    [range(0, 10n, 10n)],
    "lost range words-0 [10, 10) must be non-empty and end at or before the batch's until-offset",
  )
  refuse(
    [range(0, 18n, 21n)],
    "lost range words-0 [18, 21) must be non-empty and end at or before the batch's until-offset",
  )
  refuse([range(0, 5n, 12n), range(0, 10n, 15n)], 'lost ranges words-0 [5, 12) and words-0 [10, 15) overlap')
  refuse(
    [{ ...range(0, 5n, 12n), untilOffset: 12 }],
    'a lost range of words-0 must have non-negative bigint offsets',
  )
})
