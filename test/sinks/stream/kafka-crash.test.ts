import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fixtures, jobStarter } from '../../helpers/child-job.ts'
import { crashThenFinish, transactionKills } from '../../helpers/crash-scenario.ts'
import { createTestTopic, testClient } from '../../helpers/kafka.ts'
import { tempDir } from '../../helpers/temp-dir.ts'
import { countWords, endOffsets, produceLines, wordLines } from '../../helpers/words.ts'
import { kafkaJobWorld } from './kafka-job.ts'

const partitions = 4
const lineCount = 48_000 // 12,000 per partition: 12 batches of 1,000 per partition

test('kafka: word count killed at 5 moments of its batches; read_committed sees every count exactly once', {
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
    MAX_RATE: '5000', // 1,000 records per partition per 200 ms batch
  })

  await crashThenFinish(t, {
    start: (extra) => start({ ...env, ...extra }),
    kills: transactionKills,
  })

  assert.deepEqual(await world.counts('read_committed'), countWords(lines))
  assert.deepEqual(await world.stored(), ends)
  // The batch killed inside its transaction left records in the log that only aborted
  // transactions hold: a read_uncommitted reader sees them, a read_committed one does not.
  assert.ok((await world.records('read_uncommitted')) > (await world.records('read_committed')))
})
