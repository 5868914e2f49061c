import assert from 'node:assert/strict'
import { test } from 'node:test'
import { checkLogConsistency } from '../../src/checkpoint/log-consistency.ts'
import { ErrorCodes } from '../../src/core/errors.ts'

const inconsistent = (problem: string) => ({
  code: ErrorCodes.CHECKPOINT,
  message: `checkpoint directory '/ckpt' is inconsistent: ${problem}; restore it from a backup, or delete it to start over`,
})

test('consistent logs report where they end', () => {
  assert.deepEqual(checkLogConsistency('/ckpt', [], []), {})
  assert.deepEqual(checkLogConsistency('/ckpt', [0], []), { lastPlannedBatchId: 0 })
  assert.deepEqual(checkLogConsistency('/ckpt', [3, 4, 5], [3, 4]), {
    lastPlannedBatchId: 5,
    lastCommittedBatchId: 4,
  })
  assert.deepEqual(checkLogConsistency('/ckpt', [5], [4]), { lastPlannedBatchId: 5, lastCommittedBatchId: 4 })
  assert.deepEqual(checkLogConsistency('/ckpt', [3, 4], [3, 4]), {
    lastPlannedBatchId: 4,
    lastCommittedBatchId: 4,
  })
})

test('a commit without its plan is refused', () => {
  assert.throws(
    () => checkLogConsistency('/ckpt', [], [0]),
    inconsistent('batch 0 is committed but the offset log is empty'),
  )
  assert.throws(
    () => checkLogConsistency('/ckpt', [0, 1], [0, 1, 2]),
    inconsistent('batch 2 is committed but the offset log ends at batch 1'),
  )
})

test('more than one uncommitted batch is refused: batches run one at a time', () => {
  assert.throws(
    () => checkLogConsistency('/ckpt', [0, 1], []),
    inconsistent('batches 0 and 1 are planned but not committed, yet batches run one at a time'),
  )
  assert.throws(
    () => checkLogConsistency('/ckpt', [4, 5, 6, 7], [4]),
    inconsistent('batches 5, 6, 7 are planned but not committed, yet batches run one at a time'),
  )
})
