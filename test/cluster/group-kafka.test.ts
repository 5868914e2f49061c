import assert from 'node:assert/strict'
import { test } from 'node:test'
import { countWords } from '../helpers/words.ts'
import { killJoinZombie, sharedDeployment, stopAll } from './shared-jobs.ts'

const partitions = 12

test('kafka: three processes share a topic through a consumer group, survive a kill, a join and a zombie, and count every record once', {
  timeout: 420_000,
}, async (t) => {
  const job = await sharedDeployment(t, 'kafka', partitions)
  const jobs = await killJoinZombie({
    partitions,
    topic: job.topic,
    // Each process has its own transactional id; the group's generation fences a zombie.
    start: () => job.start(),
    caughtUp: job.caughtUp,
    // The group coordinator refuses the zombie's offsets (TxnOffsetCommit with its generation
    // and member id): the group dropped it.
    zombieRefusal:
      /^refused:SLUICE_PARTITIONS_REVOKED:lost:.*refused \((UNKNOWN_MEMBER_ID|ILLEGAL_GENERATION)\)/,
  })
  await stopAll(jobs)
  // Kafka's own Java consumer, reading committed records only, sees every count once.
  assert.deepEqual(await job.counts(), countWords(job.topic.lines))
})
