import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { fixtures, jobStarter } from '../../helpers/child-job.ts'
import { crashThenFinish } from '../../helpers/crash-scenario.ts'
import { bootstrap, createTestTopic, randomTopicName, testClient } from '../../helpers/kafka.ts'
import { tempDir } from '../../helpers/temp-dir.ts'
import { countWords, produceLines, wordLines } from '../../helpers/words.ts'
import { batchFiles, sumFiles } from './file-job.ts'

const partitions = 4
const lineCount = 48_000 // 12,000 per partition: 12 batches of 1,000 per partition

test('files: word count killed at 5 moments; one file per batch, re-runs identical, exact totals', {
  timeout: 300_000,
}, async (t) => {
  const start = jobStarter(t, fixtures.sinkWordCount)
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions })
  const lines = wordLines(lineCount)
  await produceLines(client, topic, partitions, lines)
  const dir = tempDir(t, 'sink-stream')
  const out = join(dir, 'out')
  const env = {
    SINK: 'files',
    KAFKA_BOOTSTRAP: bootstrap().join(','),
    TOPIC: topic,
    APP: randomTopicName('files'),
    OUT_DIR: out,
    CHECKPOINT: join(dir, 'checkpoint'),
    BATCH_INTERVAL: '200',
    MAX_RATE: '5000',
  }
  const expected = countWords(lines)

  await crashThenFinish(t, {
    start: (extra) => start({ ...env, ...extra }),
    kills: [
      { at: 'before-transaction:1', replayOutcome: 'outcome:1:replay:applied' },
      // The file is in place, the checkpoint commit is not: the re-run writes identical content.
      { at: 'after-commit:3', replayOutcome: 'outcome:3:replay:already-applied' },
      { at: 'before-transaction:5', replayOutcome: 'outcome:5:replay:applied' },
    ],
  })

  assert.deepEqual(sumFiles(out), expected)
  const ids = [...batchFiles(out).keys()].sort((a, b) => a - b)
  assert.deepEqual(
    ids,
    ids.map((_, i) => i),
    'one file per batch id, none missing',
  )
})
