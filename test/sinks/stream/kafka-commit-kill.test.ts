import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createTestTopic, testClient } from '../../helpers/kafka.ts'
import { finishRun, jobStarter, outcomes, rangesOf } from './child-job.ts'
import { readOutputIndependently } from './independent-reader.ts'
import { kafkaJobWorld, outputPartitions } from './kafka-job.ts'
import { tempDir } from './sql-job.ts'
import { countWords, endOffsets, produceLines, reached, wordLines } from './words.ts'

const partitions = 4
const lineCount = 24_000 // 6,000 per partition: 6 batches of 1,000 per partition

test('kafka: killed between the offset commit and the transaction commit, the restart ends exact (read by an independent consumer)', {
  timeout: 300_000,
}, async (t) => {
  const start = jobStarter(t)
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions })
  const world = await kafkaJobWorld(t, client)
  const lines = wordLines(lineCount)
  await produceLines(client, topic, partitions, lines)
  const ends = endOffsets(topic, partitions, lineCount)
  const env = world.env(topic, {
    CHECKPOINT: `${tempDir(t)}/checkpoint`,
    BATCH_INTERVAL: '200',
    MAX_RATE: '5000', // 1,000 records per partition per batch
  })

  // The sink's transaction for batch 2 holds the batch's records and its until-offsets; the
  // process dies right before EndTxn(commit).
  const killed = start({ ...env, KILL_AT_SINK_STEP: 'offsets-committed:2' })
  const exit = await killed.exited
  assert.equal(
    exit.signal,
    'SIGKILL',
    `the job died by the hook: ${killed.lines.slice(-5).join(' | ')} ${killed.stderr}`,
  )
  assert.ok(killed.lines.includes('sink-step:offsets-committed:2'))
  assert.ok(!killed.lines.includes('outcome:2:first:applied'), 'batch 2 never reported a commit')

  const last = start(env)
  await finishRun(last, async () => reached(await world.stored(), ends))
  // The new instance's start aborted the dead one's transaction; batch 2 ran again, same ranges.
  assert.equal(
    outcomes(last).find((l) => l.startsWith('outcome:2:')),
    'outcome:2:replay:applied',
  )
  assert.deepEqual(rangesOf(last, 2), rangesOf(killed, 2))
  assert.deepEqual(await world.stored(), ends)

  const committed = await readOutputIndependently(world.outputTopic, outputPartitions, 'read_committed')
  assert.deepEqual(committed.counts, countWords(lines))
  // The killed transaction's records are in the log, aborted: only read_uncommitted sees them.
  const uncommitted = await readOutputIndependently(world.outputTopic, outputPartitions, 'read_uncommitted')
  assert.ok(uncommitted.records > committed.records, `${uncommitted.records} > ${committed.records}`)
})
