import assert from 'node:assert/strict'
import { test } from 'node:test'
import { OffsetRange } from '../../src/kafka/offset-range.ts'
import type { JobProgress } from '../../src/rdd/job-progress.ts'
import { createRDD } from '../../src/source/create-rdd.ts'
import { createTestTopic, numberedRecords, testClient } from '../helpers/kafka.ts'

test('createRDD actions report tasks done of total and the records read, to the exact count at the end', async (t) => {
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions: 3 })
  await client.produce(numberedRecords(topic, 3000, 3))
  const rdd = createRDD({ client, deserializers: { value: 'string' }, taskConcurrency: 2 }, [
    OffsetRange.create(topic, 0, 0n, 1000n),
    OffsetRange.create(topic, 1, 100n, 600n),
    OffsetRange.create(topic, 2, 0n, 0n),
  ])
  const reports: JobProgress[] = []
  const values = await rdd.map((r) => r.value).collect({ onProgress: (p) => reports.push(p) })
  assert.equal(values.length, 1500)
  const last = reports.at(-1)!
  assert.deepEqual(
    {
      tasksTotal: last.tasksTotal,
      tasksDone: last.tasksDone,
      recordsRead: last.recordsRead,
      done: last.done,
    },
    { tasksTotal: 3, tasksDone: 3, recordsRead: 1500, done: true },
  )
  // The first report comes as the job starts, before any task ran or read.
  assert.deepEqual(
    {
      tasksTotal: reports[0]!.tasksTotal,
      tasksDone: reports[0]!.tasksDone,
      recordsRead: reports[0]!.recordsRead,
    },
    { tasksTotal: 3, tasksDone: 0, recordsRead: 0 },
  )
  for (let i = 1; i < reports.length; i++) {
    assert.ok(reports[i]!.recordsRead >= reports[i - 1]!.recordsRead)
    assert.ok(reports[i]!.tasksDone >= reports[i - 1]!.tasksDone)
  }
  // The same action without a listener reads the same data.
  assert.deepEqual(await rdd.map((r) => r.value).collect(), values)
})
