import assert from 'node:assert/strict'
import { test } from 'node:test'
import { finishRun, fixtures, jobStarter, outcomes, rangesOf } from '../../helpers/child-job.ts'
import { createTestTopic, testClient } from '../../helpers/kafka.ts'
import { tempDir } from '../../helpers/temp-dir.ts'
import { countWords, endOffsets, produceLines, wordLines } from '../../helpers/words.ts'
import { kafkaJobWorld } from './kafka-job.ts'

const partitions = 4
const lineCount = 24_000 // 6,000 per partition: 6 batches of 1,000 per partition

test('kafka: killed between the offset commit and the transaction commit, the restart ends exact (read by Kafka’s own consumer)', {
  timeout: 300_000,
}, async (t) => {
  const start = jobStarter(t, fixtures.sinkWordCount)
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions })
  const world = await kafkaJobWorld(t, client)
  const lines = wordLines(lineCount)
  await produceLines(client, topic, partitions, lines)
  const ends = endOffsets(topic, partitions, lineCount)
  const env = world.env(topic, {
    CHECKPOINT: `${tempDir(t, 'sink-stream')}/checkpoint`,
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
  await finishRun(last)
  // The new instance's start aborted the dead one's transaction; batch 2 ran again, same ranges.
  assert.equal(
    outcomes(last).find((l) => l.startsWith('outcome:2:')),
    'outcome:2:replay:applied',
  )
  assert.deepEqual(rangesOf(last, 2), rangesOf(killed, 2))
  assert.deepEqual(await world.stored(), ends)

  // Read by Kafka's own consumer (see kafka-job.ts), not by sluice's reader.
  assert.deepEqual(await world.counts('read_committed'), countWords(lines))
  // The killed transaction's records are in the log, aborted: only read_uncommitted sees them.
  const committed = await world.records('read_committed')
  const uncommitted = await world.records('read_uncommitted')
  assert.ok(uncommitted > committed, `${uncommitted} > ${committed}`)
})
