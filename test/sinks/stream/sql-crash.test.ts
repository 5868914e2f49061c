import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fixtures, jobStarter } from '../../helpers/child-job.ts'
import { crashThenFinish, transactionKills } from '../../helpers/crash-scenario.ts'
import { createTestTopic, testClient } from '../../helpers/kafka.ts'
import { tempDir } from '../../helpers/temp-dir.ts'
import { countWords, endOffsets, produceLines, wordLines } from '../../helpers/words.ts'
import { engines } from '../sql/fixtures.ts'
import { sqlJobWorld } from './sql-job.ts'

const partitions = 4
const lineCount = 48_000 // 12,000 per partition: 12 batches of 1,000 per partition

for (const engine of engines) {
  test(`${engine}: word count killed at 5 moments of its batches ends with the exact counts and offsets`, {
    timeout: 300_000,
  }, async (t) => {
    const start = jobStarter(t, fixtures.sinkWordCount)
    const world = await sqlJobWorld(t, engine)
    const client = testClient(t)
    const topic = await createTestTopic(t, client, { partitions })
    const lines = wordLines(lineCount)
    await produceLines(client, topic, partitions, lines)
    const expected = countWords(lines)
    const env = world.env(topic, {
      CHECKPOINT: `${tempDir(t, 'sink-stream')}/checkpoint`,
      BATCH_INTERVAL: '200',
      MAX_RATE: '5000', // 1,000 records per partition per 200 ms batch
    })

    await crashThenFinish(t, {
      start: (extra) => start({ ...env, ...extra }),
      kills: transactionKills,
    })

    assert.deepEqual(await world.counts(), expected)
    assert.deepEqual(await world.stored(), endOffsets(topic, partitions, lineCount))
  })
}
