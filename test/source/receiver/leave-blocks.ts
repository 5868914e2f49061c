// Leaves a checkpoint whose write-ahead log holds blocks no batch has processed: the job's
// output blocks on the first batch with records while the receiver logs (and commits) the
// rest, then the job is stopped forcibly, abandoning that batch.
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import type { KafkaClient } from '../../../src/kafka/client.ts'
import { numberedRecords } from '../../helpers/kafka.ts'
import { receiverJob } from './support.ts'

export async function leaveBlocksInLog(options: {
  readonly client: KafkaClient
  readonly topic: string
  readonly group: string
  readonly checkpoint: string
  readonly total: number
  readonly partitions?: number
}): Promise<void> {
  const { client, topic, group, checkpoint, total } = options
  await client.produce(numberedRecords(topic, total, options.partitions ?? 2))
  const job = receiverJob({ topic, groupId: group, checkpoint, writeAheadLog: true, receiverMaxRate: total })
  const stuck = Promise.withResolvers<void>()
  job.stream.foreachBatch(async (rdd, batch) => {
    if ((await rdd.count()) === 0) return
    stuck.resolve()
    await new Promise<void>((resolve) => batch.signal.addEventListener('abort', () => resolve()))
  })
  await job.ssc.start()
  await stuck.promise
  const deadline = Date.now() + 60_000
  while (job.stream.stats.receivedRecords < total) {
    assert.ok(
      Date.now() < deadline,
      `the receiver took in only ${job.stream.stats.receivedRecords} of ${total}`,
    )
    await sleep(50)
  }
  await job.ssc.stop({ graceful: false })
  assert.equal(job.infos.filter((info) => info.records > 0).length, 0, 'no batch with records committed')
}
