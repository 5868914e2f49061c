import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes } from '../../../src/core/errors.ts'
import {
  finishRun,
  fixtures,
  jobStarter,
  rangesOf,
  storedOffsetsOf,
  untilOffsetsOf,
} from '../../helpers/child-job.ts'
import { createTestTopic, testClient } from '../../helpers/kafka.ts'
import { countWords, endOffsets, linesIn, produceLines, wordLines } from '../../helpers/words.ts'
import { kafkaJobWorld } from './kafka-job.ts'

const partitions = 4
const lineCount = 40_000 // 10,000 per partition: 10 batches of 1,000 per partition
const rate = { BATCH_INTERVAL: '200', MAX_RATE: '5000' }

test('kafka: a second instance fences the first in the middle of its transaction; every count is seen exactly once', {
  timeout: 120_000,
}, async (t) => {
  const start = jobStarter(t, fixtures.sinkWordCount)
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions })
  const world = await kafkaJobWorld(t, client)
  const lines = wordLines(lineCount, 13)
  await produceLines(client, topic, partitions, lines)

  // The first instance has produced batch 2's counts inside its transaction and stalls there.
  const first = start(world.env(topic, { ...rate, PAUSE_AT: 'in-transaction:2', PAUSE_MODE: 'resume' }))
  await first.waitFor('paused in-transaction:2')

  // The second instance's start() takes the transactional id: the broker aborts the first one's
  // open transaction, and the group's offsets are where batch 1 ended.
  const second = start(world.env(topic, rate))
  const stored = await storedOffsetsOf(second)
  assert.deepEqual(stored, untilOffsetsOf(rangesOf(first, 1)))
  await second.waitFor('committed:0')
  assert.deepEqual(rangesOf(second, 0), rangesOf(first, 2))

  // The first instance wakes up and tries to commit batch 2: it is fenced and stops.
  first.resume()
  const fenced = await first.failure()
  assert.equal(fenced.code, ErrorCodes.BATCH_FAILED)
  assert.equal(fenced.cause.code, ErrorCodes.FENCED)
  assert.equal(
    fenced.cause.message,
    `batch 2 of app '${world.app}' was not written: another instance took over transactional id 'sluice-${world.app}' ` +
      "(or the batch's transaction outlived transactionTimeoutMs and the broker aborted it); this instance has been " +
      'fenced and must stop',
  )
  assert.equal((await first.exited).code, 3)

  const _ends = endOffsets(topic, partitions, lineCount)
  await finishRun(second)

  assert.deepEqual(await world.counts('read_committed'), countWords(lines))
  // The first instance's batch 2 records are in the log, in an aborted transaction: exactly
  // one record per distinct word of its ranges, and no read_committed reader sees them.
  const zombieLines = linesIn(lines, partitions, rangesOf(first, 2))
  assert.equal(
    (await world.records('read_uncommitted')) - (await world.records('read_committed')),
    countWords(zombieLines).size,
  )
})
