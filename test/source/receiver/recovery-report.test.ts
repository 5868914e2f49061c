import assert from 'node:assert/strict'
import { test } from 'node:test'
import { partitionKey } from '../../../src/core/partition-key.ts'
import type { ReceivedBlock } from '../../../src/source/receiver/received-block.ts'
import {
  accountedAfterStart,
  accountedUntilOf,
  reliableRecovery,
  unreliableRecovery,
} from '../../../src/source/receiver/recovery-report.ts'

function block(id: number, partition: number, from: number, until: number): ReceivedBlock {
  return {
    id,
    receiver: 'r',
    time: 0,
    records: until - from,
    bytes: 0,
    spans: [
      { topic: 't', partition, fromOffset: BigInt(from), untilOffset: BigInt(until), records: until - from },
    ],
  }
}

const at = (entries: [number, number][]) =>
  new Map(
    entries.map(([partition, offset]) => [
      partitionKey('t', partition),
      { topic: 't', partition, offset: BigInt(offset) },
    ]),
  )

test('reliable: what the previous run logged at or past the resume position comes again, once per offset', () => {
  const report = reliableRecovery(
    // Partition 0 holds [100, 200) twice: the run read it again after an earlier restart.
    [block(1, 0, 100, 150), block(2, 0, 150, 200), block(3, 0, 120, 200), block(4, 1, 0, 30)],
    at([
      [0, 140],
      [1, 30],
    ]),
  )
  assert.deepEqual(report.redelivered.map(String), ['t-0 [140, 200)'])
  assert.equal(report.redeliveredRecords, 60)
  assert.equal(report.lostRecords, 0)
})

test('reliable: a partition without a known resume position is not judged', () => {
  assert.equal(reliableRecovery([block(1, 0, 0, 10)], new Map()).redeliveredRecords, 0)
})

test('unreliable: what the group committed past what batches took is lost; below it nothing is predicted', () => {
  const accounted = accountedUntilOf(
    [
      { topic: 't', partition: 0, offset: 300n },
      { topic: 't', partition: 1, offset: 50n },
    ],
    // The pending batch's blocks died with the process: partition 0 was processed up to 200.
    [block(7, 0, 200, 300)],
  )
  const resume = at([
    [0, 260],
    [1, 40],
  ])
  const report = unreliableRecovery(accounted, resume)
  assert.deepEqual(report.lost.map(String), ['t-0 [200, 260)'])
  assert.equal(report.lostRecords, 60)
  assert.equal(report.redeliveredRecords, 0)
  // Counted once: accounting moves past the loss, and keeps what batches reached elsewhere.
  const after = accountedAfterStart(accounted, resume)
  assert.deepEqual(
    [...after.values()].map((p) => [p.partition, p.offset]),
    [
      [0, 260n],
      [1, 50n],
    ],
  )
  assert.equal(unreliableRecovery(after, resume).lostRecords, 0)
})

test('unreliable: a partition accounting never saw starts where the group resumes it', () => {
  const after = accountedAfterStart(new Map(), at([[3, 77]]))
  assert.deepEqual(
    [...after.values()].map((p) => [p.partition, p.offset]),
    [[3, 77n]],
  )
})
