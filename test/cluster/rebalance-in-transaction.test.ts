import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { ChildJob } from '../helpers/child-job.ts'
import { countWords } from '../helpers/words.ts'
import {
  assertBalanced,
  latestShare,
  pausedBatch,
  settled,
  sharedDeployment,
  stopAll,
} from './shared-jobs.ts'

const partitions = 6

/** The non-empty ranges a process printed for batch `id`, as `topic-partition` to from-offset. */
function rangesOf(job: ChildJob, id: number): Map<string, bigint> {
  const line = job.lines.find((l) => l.startsWith(`ranges:${id}:`))
  assert.ok(line !== undefined, `no ranges printed for batch ${id}; ${job.describe()}`)
  const result = new Map<string, bigint>()
  for (const range of line.slice(`ranges:${id}:`.length).split(',').filter(Boolean)) {
    const [partition, offsets] = [
      range.slice(0, range.lastIndexOf(':')),
      range.slice(range.lastIndexOf(':') + 1),
    ]
    const [from, until] = offsets.split('-').map(BigInt) as [bigint, bigint]
    if (until > from) result.set(partition, from)
  }
  return result
}

for (const sink of ['postgres', 'kafka'] as const) {
  test(`${sink}: a rebalance waits for the batch inside its sink transaction, which commits; past the rebalance timeout the batch is abandoned and rolled back; every record is counted once`, {
    timeout: 300_000,
  }, async (t) => {
    const job = await sharedDeployment(t, sink, partitions)
    const { topic } = job
    await topic.produce(3_000, 1)
    const a = job.start()
    await settled([a], partitions)
    await job.caughtUp('with one process')

    // Held: b joins while a's batch is inside its transaction. a holds its rejoin, and the
    // group cannot assign anything until it rejoins: after the batch committed.
    await topic.produce(3_000, 2)
    const held = await pausedBatch(a)
    const b = job.start()
    await a.waitFor('holding')
    assert.equal(latestShare(b), undefined, 'the group assigned partitions while a batch held the rebalance')
    a.process.stdin!.write('resume\n')
    await a.waitFor(`committed:${held}`)
    assert.ok(a.lines.includes(`outcome:${held}:first:applied`), a.describe())
    assert.ok(!a.lines.includes(`withdrawn:${held}`), a.describe())
    assertBalanced(await settled([a, b], partitions))
    await job.caughtUp('after the held rebalance')

    // Abandoned: b leaves while a's batch stays inside its transaction past the rebalance
    // timeout. a gives the batch up so that the group can go on; the batch rolls back, and its
    // ranges are read again from the stored offsets. The hold (13 s) outlasts the session
    // timeout (6 s): that the reason is the rebalance timeout, not the group dropping a, shows
    // the session was kept alive while the rejoin was held.
    await topic.produce(3_000, 3)
    const abandoned = await pausedBatch(a, held)
    const ranges = rangesOf(a, abandoned)
    const leaving = b.kill('SIGTERM')
    await a.waitFor('abandoning', 60_000).catch((error: Error) => {
      throw new Error(`${error.message}; the leaving process: ${b.describe()}`)
    })
    await a.waitFor(`withdrawn:${abandoned}`)
    assert.match(
      a.lines.findLast((l) => l.startsWith('refused:')) ?? '',
      /^refused:SLUICE_PARTITIONS_REVOKED:.*was abandoned and rolled back: .*did not commit within the rebalance timeout/,
      a.describe(),
    )
    a.process.stdin!.write('resume\n')
    assert.equal(await leaving, 0, b.describe())
    await settled([a], partitions)
    await topic.produce(3_000, 4)
    await job.caughtUp('after the abandoned batch')
    for (const [partition, from] of ranges) {
      const reread = a.lines.some(
        (l) =>
          l.startsWith('ranges:') &&
          Number(l.split(':')[1]) > abandoned &&
          l.includes(`${partition}:${from}-`),
      )
      assert.ok(
        reread,
        `${partition} was read again from ${from} after batch ${abandoned} rolled back; ${a.describe()}`,
      )
    }
    await stopAll([a])
    assert.deepEqual(await job.counts(), countWords(topic.lines))
  })
}
