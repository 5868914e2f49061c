import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  decodePlannedBatch,
  encodePlannedBatch,
  type PlannedBatch,
} from '../../src/checkpoint/planned-batch.ts'
import { ErrorCodes, isSluiceError } from '../../src/core/errors.ts'

const FILE = '/ckpt/offsets/7'
const DIR = '/ckpt'

const batch: PlannedBatch = {
  batchId: 7,
  batchTime: 1_700_000_000_000,
  ranges: [
    // 2^53 + 1 = 9007199254740993 is not representable as a number: it must survive as a bigint.
    {
      topic: 'words',
      partition: 0,
      fromOffset: 9_007_199_254_740_993n,
      untilOffset: 9_223_372_036_854_775_807n,
    },
    { topic: 'words', partition: 1, fromOffset: 0n, untilOffset: 0n },
  ],
  metadata: { rate: { latestRate: 1440.5, latestTime: 3000 }, lostRecords: 0 },
}

test('an offset log entry round-trips bigints beyond 2^53 exactly, as decimal strings on disk', () => {
  const text = encodePlannedBatch(batch)
  const onDisk = JSON.parse(text)
  assert.equal(onDisk.version, 1)
  assert.deepEqual(onDisk.ranges[0], {
    topic: 'words',
    partition: 0,
    fromOffset: '9007199254740993',
    untilOffset: '9223372036854775807',
  })
  assert.match(onDisk.checksum, /^sha256:[0-9a-f]{64}$/)
  assert.deepEqual(decodePlannedBatch(text, FILE, DIR, 7), batch)
})

test('an entry without metadata reads back without a metadata key', () => {
  const plain: PlannedBatch = { batchId: 0, batchTime: 0, ranges: [] }
  assert.deepEqual(decodePlannedBatch(encodePlannedBatch(plain), '/ckpt/offsets/0', DIR, 0), plain)
})

test('the checksum does not depend on formatting or key order, only on content', () => {
  const onDisk = JSON.parse(encodePlannedBatch(batch))
  const { checksum, ...rest } = onDisk
  const reordered = JSON.stringify({ checksum, ranges: rest.ranges, ...rest })
  assert.deepEqual(decodePlannedBatch(reordered, FILE, DIR, 7), batch)
})

test('an entry named after another batch is refused', () => {
  assert.throws(() => decodePlannedBatch(encodePlannedBatch(batch), '/ckpt/offsets/8', DIR, 8), {
    code: ErrorCodes.CHECKPOINT,
    message:
      "checkpoint file '/ckpt/offsets/8' is malformed: it records batch 7 but is named 8; " +
      "restore it from a backup, or delete '/ckpt' to start over",
  })
})

function invalid(patch: Partial<PlannedBatch>): () => string {
  return () => encodePlannedBatch({ ...batch, ...patch })
}

test('a batch that could not be read back faithfully is refused before it is written', () => {
  const cases: [Partial<PlannedBatch>, string][] = [
    [{ batchId: -1 }, 'planned batch -1: batchId must be a non-negative integer, got -1'],
    [{ batchTime: 1.5 }, 'planned batch 7: batchTime must be a non-negative integer (ms), got 1.5'],
    [
      { ranges: [{ topic: '', partition: 0, fromOffset: 0n, untilOffset: 1n }] },
      'planned batch 7: ranges[0].topic must be a non-empty string, got ""',
    ],
    [
      { ranges: [{ topic: 't', partition: -2, fromOffset: 0n, untilOffset: 1n }] },
      'planned batch 7: ranges[0].partition must be a non-negative integer, got -2',
    ],
    [
      { ranges: [{ topic: 't', partition: 0, fromOffset: 5 as unknown as bigint, untilOffset: 6n }] },
      'planned batch 7: ranges[0].fromOffset must be a non-negative bigint, got 5',
    ],
    [
      { ranges: [{ topic: 't', partition: 3, fromOffset: 10n, untilOffset: 5n }] },
      'planned batch 7: ranges[0] (t-3) has untilOffset 5 below fromOffset 10',
    ],
    [
      {
        ranges: [
          { topic: 't', partition: 0, fromOffset: 0n, untilOffset: 1n },
          { topic: 't', partition: 0, fromOffset: 1n, untilOffset: 2n },
        ],
      },
      'planned batch 7: ranges[1] repeats partition t-0',
    ],
    [
      { metadata: { lost: 3n } as unknown as PlannedBatch['metadata'] },
      'metadata of planned batch 7 must be plain JSON, but metadata.lost is 3n',
    ],
  ]
  for (const [patch, message] of cases) {
    assert.throws(invalid(patch), (error) => {
      assert.ok(isSluiceError(error, ErrorCodes.INVALID_ARGUMENT))
      assert.equal(error.message, message)
      return true
    })
  }
})
