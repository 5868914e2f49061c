import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { ChildJob } from '../helpers/child-job.ts'
import { eventually } from '../helpers/eventually.ts'
import { countWords } from '../helpers/words.ts'
import { killJoinZombie, sharedDeployment, stopAll } from './shared-jobs.ts'

const partitions = 12

/** How each sink refuses the zombie, and what it shows of the takeover. */
const sinks = {
  postgres: {
    // Its sessions ended, its commit fails; the retry finds its rows claimed by others — or,
    // first, its heartbeat learns that the group dropped it, and the retry is abandoned.
    zombieRefusal:
      /^refused:SLUICE_PARTITIONS_REVOKED:lost:.*( no longer belong to member |rebalanced: the group dropped this member)/,
    // The zombie holds its rows' locks in its open transaction: a claim ends its sessions.
    takenOver: (survivors: readonly ChildJob[]) =>
      eventually(
        () => survivors.some((s) => s.lines.includes('took-over')),
        'a claim to end the stalled sessions',
        {
          timeoutMs: 60_000,
        },
      ),
  },
  kafka: {
    // The group coordinator refuses the zombie's offsets (TxnOffsetCommit with its generation
    // and member id): the group dropped it. Each process has its own transactional id.
    zombieRefusal:
      /^refused:SLUICE_PARTITIONS_REVOKED:lost:.*refused \((UNKNOWN_MEMBER_ID|ILLEGAL_GENERATION)\)/,
    takenOver: undefined,
  },
}

for (const [sink, refusal] of Object.entries(sinks) as [
  keyof typeof sinks,
  (typeof sinks)[keyof typeof sinks],
][]) {
  test(`${sink}: three processes share a topic through a consumer group, survive a kill, a join and a zombie, and count every record once`, {
    timeout: 420_000,
  }, async (t) => {
    const job = await sharedDeployment(t, sink, partitions)
    const jobs = await killJoinZombie({
      partitions,
      topic: job.topic,
      start: () => job.start(),
      caughtUp: job.caughtUp,
      zombieRefusal: refusal.zombieRefusal,
      ...(refusal.takenOver === undefined ? {} : { takenOver: refusal.takenOver }),
    })
    await stopAll(jobs)
    // PostgreSQL's table; for the Kafka sink, Kafka's own Java consumer reading committed records.
    assert.deepEqual(await job.counts(), countWords(job.topic.lines))
    const sql = job.world.sql
    if (sql !== undefined) {
      const owners = await sql.rows(`SELECT owner_generation FROM "${sql.offsetsTable}" WHERE app = $1`, [
        sql.app,
      ])
      assert.equal(owners.length, partitions)
      assert.ok(
        owners.every((row) => row.owner_generation !== null),
        'every partition has an owner generation',
      )
    }
  })
}
