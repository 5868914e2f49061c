import assert from 'node:assert/strict'
import { test } from 'node:test'
import { eventually } from '../helpers/eventually.ts'
import { countWords } from '../helpers/words.ts'
import { pausedBatch, sharedDeployment, stopAll } from './shared-jobs.ts'

const partitions = 6

test('postgres: a static split (instance i of N) survives a kill, a zombie and a rescale under a higher epoch; a process of an older epoch is refused; every record counted once', {
  timeout: 300_000,
}, async (t) => {
  const job = await sharedDeployment(t, 'postgres', partitions)
  const sql = job.world.sql!
  const { topic } = job
  const instance = (i: number, of: number, epoch: number) => job.start({ SPLIT: `${i}/${of}/${epoch}` })
  const owners = async () =>
    (
      await sql.rows(
        `SELECT "partition", owner_generation, owner_member FROM "${sql.offsetsTable}" WHERE app = $1 ORDER BY "partition"`,
        [sql.app],
      )
    ).map((row) => ({
      partition: Number(row.partition),
      epoch: Number(row.owner_generation),
      member: String(row.owner_member),
    }))

  await topic.produce(3_000, 1)
  const running = [instance(0, 3, 1), instance(1, 3, 1), instance(2, 3, 1)]
  for (const process of running) await process.waitFor('started')
  await job.caughtUp('with three instances')
  const split = await owners()
  assert.equal(split.length, partitions)
  // Each instance claimed two partitions, all under epoch 1.
  const perInstance = (i: number, of: number) =>
    split.filter((o) => o.member.startsWith(`instance-${i}-of-${of}-`))
  for (const i of [0, 1, 2]) assert.equal(perInstance(i, 3).length, 2, JSON.stringify(split))
  assert.ok(split.every((o) => o.epoch === 1))

  // Killed outright: nothing moves without a group; the restarted instance claims its
  // partitions again (a new member id under the same epoch) and resumes from the stored offsets.
  await running[1]!.kill()
  await topic.produce(3_000, 2)
  running[1] = instance(1, 3, 1)
  await job.caughtUp('after instance 1 was killed and restarted')

  // A zombie: instance 0 stops inside a batch's transaction, holding its rows' locks. Its
  // replacement's claim ends the stalled sessions and takes the rows; the zombie, woken up,
  // finds its partitions claimed by another member and stops.
  const zombie = running[0]!
  await pausedBatch(zombie)
  zombie.process.kill('SIGSTOP')
  running[0] = instance(0, 3, 1)
  await eventually(
    () => running[0]!.lines.includes('took-over'),
    'the replacement to end the stalled sessions',
    {
      timeoutMs: 60_000,
    },
  )
  await topic.produce(3_000, 3)
  await job.caughtUp('while the zombie sleeps')
  zombie.process.kill('SIGCONT')
  zombie.process.stdin!.write('resume\n')
  const fenced = await zombie.failure()
  assert.equal(fenced.code, 'SLUICE_BATCH_FAILED', zombie.describe())
  assert.equal(fenced.cause.code, 'SLUICE_PARTITIONS_REVOKED')
  assert.match(fenced.message, /no longer belong to instance 'instance-0-of-3-.*' of split-3 \(epoch 1\)/)
  assert.equal((await zombie.exited).code, 3)

  // Rescale to two instances: stop every instance, start the new split under epoch 2.
  await stopAll(running)
  const rescaled = [instance(0, 2, 2), instance(1, 2, 2)]
  await topic.produce(3_000, 4)
  await job.caughtUp('after the rescale to two instances')
  const after = await owners()
  assert.ok(
    after.every((o) => o.epoch === 2),
    JSON.stringify(after),
  )
  for (const i of [0, 1]) {
    assert.equal(
      after.filter((o) => o.member.startsWith(`instance-${i}-of-2-`)).length,
      3,
      JSON.stringify(after),
    )
  }

  // A process of the old deployment (epoch 1) cannot claim anything back: it stops, fenced.
  const stale = instance(2, 3, 1)
  const refusal = await stale.failure()
  assert.equal(refusal.code, 'SLUICE_FENCED', JSON.stringify(refusal))
  assert.match(refusal.message, /a newer deployment \(a higher epoch\) owns them/)
  await topic.produce(1_000, 5)
  await job.caughtUp('after the stale process was refused')
  assert.deepEqual(await owners().then((rows) => rows.map((r) => r.epoch)), Array(partitions).fill(2))
  await stopAll(rescaled)
  assert.deepEqual(await job.counts(), countWords(topic.lines))
})
