import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fixtures, jobStarter } from '../helpers/child-job.ts'
import { eventually } from '../helpers/eventually.ts'
import { randomTopicName } from '../helpers/kafka.ts'
import { countWords, reached } from '../helpers/words.ts'
import { sqlJobWorld } from '../sinks/stream/sql-job.ts'
import { assertBalanced, latestShare, settled, wavesTopic } from './shared-jobs.ts'

const partitions = 12
// Short timeouts keep the test quick: a killed process is noticed after 6 s.
const groupTimeouts = { SESSION_TIMEOUT_MS: '6000', HEARTBEAT_MS: '1000', REBALANCE_TIMEOUT_MS: '15000' }
const rate = { BATCH_INTERVAL: '300', MAX_RATE: '2000' }

test('postgres: three processes share a topic through a consumer group, survive a kill, a join and a zombie, and count every record once', {
  timeout: 420_000,
}, async (t) => {
  const start = jobStarter(t, fixtures.sharedWordCount)
  const world = await sqlJobWorld(t, 'postgres')
  const topic = await wavesTopic(t, partitions)
  const group = randomTopicName('group')
  const env = () => world.env(topic.topic, { ...rate, ...groupTimeouts, GROUP_ID: group })
  const caughtUp = (what: string) =>
    eventually(
      async () => reached(await world.stored(), topic.ends()),
      `the offsets to reach the log ends ${what}`,
      {
        timeoutMs: 120_000,
        intervalMs: 200,
      },
    )

  await topic.produce(6_000, 1)
  const a = start(env())
  const b = start(env())
  const c = start(env())
  const three = await settled([a, b, c], partitions)
  assertBalanced(three)
  await caughtUp('with three processes')

  // A process killed outright: the group notices after the session timeout and the other two
  // take its partitions over, keeping their own (sticky).
  await topic.produce(3_000, 2)
  await b.kill()
  const two = await settled([a, c], partitions)
  assertBalanced(two)
  for (const [before, after] of [
    [three[0]!, two[0]!],
    [three[2]!, two[1]!],
  ] as const) {
    for (const p of before.partitions)
      assert.ok(after.partitions.includes(p), `partition ${p} stayed where it was`)
  }
  await caughtUp('after the kill')

  // A fourth process joins: it gets a share, taken from the others.
  const d = start(env())
  const withD = await settled([a, c, d], partitions)
  assertBalanced(withD)
  assert.ok(withD[2]!.partitions.length >= 3)
  await topic.produce(3_000, 3)
  await caughtUp('after the join')

  // A zombie: `a` stops inside a batch's transaction (holding its rows' locks) long past its
  // session timeout. The others take its partitions over — ending its database sessions, which
  // still hold the rows — and process on. When it wakes up, its late batch is refused.
  a.process.stdin!.write('pause\n')
  const paused = await a.waitFor((l) => l.startsWith('paused in-transaction:'))
  const lateBatch = Number(paused.split(':')[1])
  a.process.kill('SIGSTOP')
  await topic.produce(3_000, 4)
  await settled([c, d], partitions)
  await eventually(
    () => [c, d].some((job) => job.lines.includes('took-over')),
    'a claim to end the stalled sessions',
    {
      timeoutMs: 60_000,
    },
  )
  await caughtUp('while the zombie sleeps')
  a.process.kill('SIGCONT')
  a.process.stdin!.write('resume\n')
  await a.waitFor(`withdrawn:${lateBatch}`)
  // It rejoins, gets a share again, and everything goes on.
  const back = await settled([a, c, d], partitions)
  assertBalanced(back)
  await topic.produce(3_000, 5)
  await caughtUp('after the zombie came back')

  assert.deepEqual(await world.counts(), countWords(topic.lines))
  assert.ok(latestShare(a)!.generation > withD[0]!.generation)
  for (const job of [a, c, d]) {
    assert.equal(await job.kill('SIGTERM'), 0, job.describe())
    assert.ok(job.lines.includes('stopped'))
  }
})
