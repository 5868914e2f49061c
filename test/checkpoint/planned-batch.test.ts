import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { test } from 'node:test'
import { canonicalJson, type JsonObject } from '../../src/checkpoint/json-value.ts'
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
  inputs: {
    words: {
      kind: 'kafka-direct',
      plan: {
        ranges: [
          { topic: 'words', partition: 0, fromOffset: '9007199254740993', untilOffset: '9007199254741093' },
        ],
      },
      state: { latestRate: 1440.5, estimator: { latestTime: 3000 } },
    },
    idle: { kind: 'queue', state: { next: 3 } },
  },
}

test('an offset log entry holds each input under its name: kind, opaque plan, soft state', () => {
  const text = encodePlannedBatch(batch)
  const { checksum, ...onDisk } = JSON.parse(text)
  assert.deepEqual(onDisk, {
    version: 2,
    batchId: 7,
    batchTime: 1_700_000_000_000,
    inputs: {
      words: batch.inputs.words,
      idle: { kind: 'queue', state: { next: 3 } },
    },
  })
  assert.match(checksum, /^sha256:[0-9a-f]{64}$/)
  assert.deepEqual(decodePlannedBatch(text, FILE, DIR, 7), batch)
})

test('the checksum does not depend on formatting or key order, only on content', () => {
  const onDisk = JSON.parse(encodePlannedBatch(batch))
  const { checksum, ...rest } = onDisk
  const reordered = JSON.stringify({ checksum, inputs: rest.inputs, ...rest })
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

test('a batch that could not be read back faithfully is refused before it is written', () => {
  const cases: [Partial<PlannedBatch>, string][] = [
    [{ batchId: -1 }, 'planned batch -1: batchId must be a non-negative integer, got -1'],
    [{ batchTime: 1.5 }, 'planned batch 7: batchTime must be a non-negative integer (ms), got 1.5'],
    [
      { inputs: { words: { kind: '' } } },
      'planned batch 7: inputs.words.kind must be a non-empty string, got ""',
    ],
    [
      { inputs: { words: { kind: 'kafka-direct', plan: { offset: 3n } as never } } },
      "plan of input 'words' in batch 7 must be plain JSON, but plan.offset is 3n",
    ],
    [
      { inputs: { words: { kind: 'kafka-direct', state: { at: Number.NaN } } } },
      "state of input 'words' in batch 7 must be plain JSON, but state.at is NaN",
    ],
  ]
  for (const [patch, message] of cases) {
    assert.throws(
      () => encodePlannedBatch({ ...batch, ...patch }),
      (error) => {
        assert.ok(isSluiceError(error, ErrorCodes.INVALID_ARGUMENT))
        assert.equal(error.message, message)
        return true
      },
    )
  }
})

/** A file as the format-1 writer sealed it. */
function v1File(fields: JsonObject): string {
  const payload: JsonObject = { version: 1, ...fields }
  const checksum = `sha256:${createHash('sha256').update(canonicalJson(payload)).digest('hex')}`
  return JSON.stringify({ ...payload, checksum })
}

const v1Ranges = [
  { topic: 'words', partition: 0, fromOffset: '100', untilOffset: '200' },
  { topic: 'clicks', partition: 0, fromOffset: '5', untilOffset: '9' },
]

test('a format-1 entry of one input is upgraded into that input, its ranges as a Kafka plan', () => {
  const text = v1File({
    batchId: 7,
    batchTime: 1_700_000_000_000,
    ranges: v1Ranges.slice(0, 1),
    metadata: { inputs: { 'direct-kafka-0': { lostRecords: 4, state: { latestRate: 90 } } } },
  })
  assert.deepEqual(decodePlannedBatch(text, FILE, DIR, 7), {
    batchId: 7,
    batchTime: 1_700_000_000_000,
    inputs: {
      'direct-kafka-0': {
        kind: 'kafka-direct',
        plan: { ranges: v1Ranges.slice(0, 1), lostRecords: 4 },
        state: { latestRate: 90 },
      },
    },
    upgradedFrom: 1,
  })
})

test('a format-1 entry of several inputs gives each every range, marked shared; one without input metadata goes to direct-kafka-0', () => {
  const shared = v1File({
    batchId: 7,
    batchTime: 1,
    ranges: v1Ranges,
    metadata: { inputs: { 'direct-kafka-0': { lostRecords: 0 }, 'direct-kafka-1': { lostRecords: 0 } } },
  })
  const upgraded = decodePlannedBatch(shared, FILE, DIR, 7)
  assert.deepEqual(Object.keys(upgraded.inputs), ['direct-kafka-0', 'direct-kafka-1'])
  for (const input of Object.values(upgraded.inputs)) {
    assert.deepEqual(input, { kind: 'kafka-direct', plan: { ranges: v1Ranges, v1SharedRanges: true } })
  }
  const bare = decodePlannedBatch(v1File({ batchId: 7, batchTime: 1, ranges: v1Ranges }), FILE, DIR, 7)
  assert.deepEqual(bare.inputs, { 'direct-kafka-0': { kind: 'kafka-direct', plan: { ranges: v1Ranges } } })
})

test('a damaged format-1 entry is refused naming the field; an unknown format is refused naming the readable ones', () => {
  const text = v1File({ batchId: 7, batchTime: 1, ranges: [{ ...v1Ranges[0]!, untilOffset: '50' }] })
  assert.throws(() => decodePlannedBatch(text, FILE, DIR, 7), {
    code: ErrorCodes.CHECKPOINT,
    message:
      "checkpoint file '/ckpt/offsets/7' is malformed: ranges[0] has untilOffset 50 below fromOffset 100; " +
      "restore it from a backup, or delete '/ckpt' to start over",
  })
  const future = JSON.stringify({ ...JSON.parse(encodePlannedBatch(batch)), version: 3 })
  assert.throws(() => decodePlannedBatch(future, FILE, DIR, 7), {
    code: ErrorCodes.CHECKPOINT,
    message:
      "checkpoint file '/ckpt/offsets/7' has format version 3, but this sluice reads versions 1 and 2 " +
      "(it was written by a newer sluice: upgrade this one); use another checkpoint directory, or delete '/ckpt' to start over",
  })
})
