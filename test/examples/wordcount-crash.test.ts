import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { openCountsDatabase, wordTotals } from '../../examples/wordcount.ts'
import { fixtures, jobStarter, plannedBatches } from '../helpers/child-job.ts'
import { crashThenFinish } from '../helpers/crash-scenario.ts'
import { bootstrap, createTestTopic, testClient } from '../helpers/kafka.ts'
import { tempDir } from '../helpers/temp-dir.ts'
import { countWords, linesIn, produceLines, wordLines } from '../helpers/words.ts'

const partitions = 4

test('word count survives SIGKILL at 5 moments and ends with exact counts, per batch and in total', {
  timeout: 600_000,
}, async (t) => {
  const start = jobStarter(t, fixtures.wordCount)
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions })
  const dir = tempDir(t, 'wordcount-crash')
  const lines = wordLines(200_000)
  await produceLines(client, topic, partitions, lines)
  const env = {
    KAFKA_BOOTSTRAP: bootstrap().join(','),
    TOPIC: topic,
    CHECKPOINT: join(dir, 'checkpoint'),
    DATABASE: join(dir, 'counts.db'),
    BATCH_INTERVAL: '200',
    MAX_RATE: '20000', // 4,000 records per partition per batch: 13 batches with data
  }

  // Three precise moments: ranges logged but no output yet; inside the output's SQLite
  // transaction; output committed but the checkpoint commit not written. Each batch replaces
  // its own rows, so its re-run applies again. Then two random moments.
  const jobs = await crashThenFinish(t, {
    start: (extra) => start({ ...env, ...extra }),
    kills: [
      { at: 'planned:1', replayOutcome: 'outcome:1:replay:applied' },
      { at: 'in-transaction:3', replayOutcome: 'outcome:3:replay:applied' },
      { at: 'after-commit:5', replayOutcome: 'outcome:5:replay:applied' },
    ],
  })

  // The last run has committed an empty batch: every line is counted, once.
  const db = openCountsDatabase(env.DATABASE)
  t.after(() => db.close())
  assert.deepEqual(new Map([...wordTotals(db)].sort(([a], [b]) => (a < b ? -1 : 1))), countWords(lines))
  // Each batch's rows are the counts of exactly the lines its ranges hold.
  const rows = db
    .prepare('SELECT batch_id, word, count FROM word_counts_by_batch ORDER BY batch_id, word')
    .all()
  const stored = new Map<number, Map<string, number>>()
  for (const row of rows) {
    const batch = stored.get(Number(row.batch_id)) ?? new Map<string, number>()
    batch.set(String(row.word), Number(row.count))
    stored.set(Number(row.batch_id), batch)
  }
  // The batches tile each partition's offsets, without gap or overlap, up to its end.
  const planned = plannedBatches(jobs)
  for (let p = 0; p < partitions; p++) {
    const ranges = [...planned.values()]
      .flat()
      .filter((r) => r.partition === p && r.fromOffset < r.untilOffset)
    assert.deepEqual(
      ranges.map((r) => r.fromOffset),
      [0n, ...ranges.slice(0, -1).map((r) => r.untilOffset)],
      `partition ${p}: each batch starts where the one before it ended`,
    )
    assert.equal(
      ranges.at(-1)?.untilOffset,
      BigInt(lines.length / partitions),
      `partition ${p} read to its end`,
    )
  }
  for (const [id, ranges] of planned) {
    const expected = countWords(linesIn(lines, partitions, ranges))
    assert.deepEqual(stored.get(id) ?? new Map(), expected, `the rows of batch ${id}`)
  }
})
