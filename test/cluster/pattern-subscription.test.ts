import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type ChildJob, fixtures, jobStarter } from '../helpers/child-job.ts'
import { eventually } from '../helpers/eventually.ts'
import { createTestTopic, randomTopicName, testClient } from '../helpers/kafka.ts'
import { countWords, endOffsets, produceLines, reached, wordLines } from '../helpers/words.ts'
import { sqlJobWorld } from '../sinks/stream/sql-job.ts'
import { groupTimeouts, rate, stopAll } from './shared-jobs.ts'

const partitions = 4

/** The topic-partitions a process owns in its latest generation, from its last `owns:` line. */
function owned(job: ChildJob): { generation: number; partitions: string[] } | undefined {
  const line = job.lines.findLast((l) => l.startsWith('owns:'))
  if (line === undefined) return undefined
  const [, generation, list] = line.split(':')
  return { generation: Number(generation), partitions: list === '' ? [] : list!.split(',') }
}

test('postgres: processes sharing a pattern subscription rejoin when a matching topic appears, share its partitions too, and count every record once', {
  timeout: 300_000,
}, async (t) => {
  const start = jobStarter(t, fixtures.sharedWordCount)
  const world = await sqlJobWorld(t, 'postgres')
  const client = testClient(t)
  const prefix = randomTopicName('pattern')
  const produced = new Map<string, string[]>()
  const produce = async (topic: string, count: number, seed: number) => {
    const wave = wordLines(count, seed)
    const lines = produced.get(topic) ?? []
    await produceLines(client, topic, partitions, wave, lines.length)
    produced.set(topic, [...lines, ...wave])
  }
  const ends = () =>
    Object.assign({}, ...[...produced].map(([topic, lines]) => endOffsets(topic, partitions, lines.length)))
  const caughtUp = (what: string) =>
    eventually(
      async () => reached(await world.stored(), ends()),
      `the offsets to reach the log ends ${what}`,
      {
        timeoutMs: 120_000,
        intervalMs: 200,
      },
    )
  const sharing = async (jobs: readonly ChildJob[], topics: readonly string[]) => {
    const wanted = topics
      .flatMap((topic) => Array.from({ length: partitions }, (_, p) => `${topic}-${p}`))
      .sort()
    await eventually(
      () => {
        const shares = jobs.map(owned)
        if (shares.some((s) => s === undefined) || new Set(shares.map((s) => s!.generation)).size !== 1)
          return false
        const all = shares.flatMap((s) => s!.partitions).sort()
        return JSON.stringify(all) === JSON.stringify(wanted)
      },
      `the processes to share ${wanted.join(', ')} (latest: ${JSON.stringify(jobs.map(owned))})`,
      { timeoutMs: 90_000, intervalMs: 100 },
    )
    return jobs.map((job) => owned(job)!)
  }

  const first = await createTestTopic(t, client, { partitions, prefix })
  await produce(first, 2_000, 1)
  const env = world.env(first, {
    ...rate,
    ...groupTimeouts,
    GROUP_ID: randomTopicName('group'),
    TOPIC_PATTERN: `^${prefix}-`,
  })
  const jobs = [start(env), start(env)]
  const before = await sharing(jobs, [first])
  await caughtUp('of the first topic')

  // A second topic matching the pattern: the processes see it in their metadata, rejoin with
  // the new subscription, and the group shares both topics' partitions.
  const second = await createTestTopic(t, client, { partitions, prefix })
  await produce(second, 2_000, 2)
  await produce(first, 1_000, 3)
  const after = await sharing(jobs, [first, second])
  assert.ok(after[0]!.generation > before[0]!.generation)
  // Sticky: each process keeps the first topic's partitions it had.
  for (const [i, share] of before.entries()) {
    for (const p of share.partitions) assert.ok(after[i]!.partitions.includes(p), `${p} stayed where it was`)
  }
  await caughtUp('of both topics')
  await stopAll(jobs)
  assert.deepEqual(await world.counts(), countWords([...produced.values()].flat()))
})
