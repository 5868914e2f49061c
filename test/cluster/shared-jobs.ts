// What the scale-out tests read from the processes of a shared word count
// (test/fixtures/shared-wordcount-child.ts): their assignments, and a topic fed in waves.
import assert from 'node:assert/strict'
import type { TestContext } from 'node:test'
import { type ChildJob, fixtures, jobStarter } from '../helpers/child-job.ts'
import { eventually } from '../helpers/eventually.ts'
import { createTestTopic, randomTopicName, testClient } from '../helpers/kafka.ts'
import { endOffsets, produceLines, reached, wordLines } from '../helpers/words.ts'
import { kafkaJobWorld } from '../sinks/stream/kafka-job.ts'
import { type SqlJobWorld, sqlJobWorld } from '../sinks/stream/sql-job.ts'

/** Short group timeouts keep the tests quick: a killed process is noticed after 6 s. */
export const groupTimeouts = {
  SESSION_TIMEOUT_MS: '6000',
  HEARTBEAT_MS: '1000',
  REBALANCE_TIMEOUT_MS: '15000',
}
/** Batches every 300 ms of at most 2,000 records/s per partition: many batches, and rebalances land between and inside them. */
export const rate = { BATCH_INTERVAL: '300', MAX_RATE: '2000' }

/** The partitions a process holds in a generation, from its last `assigned:` line. */
export interface Share {
  readonly generation: number
  readonly partitions: readonly number[]
}

/** The process's latest assignment, if it has one. */
export function latestShare(job: ChildJob): Share | undefined {
  const line = job.lines.findLast((l) => l.startsWith('assigned:'))
  if (line === undefined) return undefined
  const [, generation, list] = line.split(':')
  return {
    generation: Number(generation),
    partitions: list === '' ? [] : list!.split(',').map(Number),
  }
}

/**
 * Waits until `jobs` hold one generation together whose assignments cover the topic's
 * `partitions` partitions, each exactly once; returns each job's share.
 */
export async function settled(
  jobs: readonly ChildJob[],
  partitions: number,
  timeoutMs = 90_000,
): Promise<Share[]> {
  let shares: (Share | undefined)[] = []
  await eventually(
    () => {
      shares = jobs.map(latestShare)
      if (shares.some((s) => s === undefined)) return false
      const generations = new Set(shares.map((s) => s!.generation))
      const all = shares.flatMap((s) => s!.partitions)
      return generations.size === 1 && all.length === partitions && new Set(all).size === partitions
    },
    `${jobs.length} processes to share ${partitions} partitions in one generation ` +
      `(latest: ${JSON.stringify(jobs.map(latestShare))}; ${jobs.map((j) => j.describe()).join(' || ')})`,
    { timeoutMs, intervalMs: 100 },
  )
  return shares as Share[]
}

/** Asserts that the shares are balanced: sizes differ by at most one. */
export function assertBalanced(shares: readonly Share[]): void {
  const sizes = shares.map((s) => s.partitions.length)
  assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `unbalanced shares ${JSON.stringify(shares)}`)
}

/** A topic fed round-robin in waves of word lines; remembers every line produced. */
export async function wavesTopic(t: TestContext, partitions: number) {
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions })
  const lines: string[] = []
  return {
    client,
    topic,
    lines,
    /** Produces `count` more lines (seeded by `seed`), continuing the round-robin. */
    async produce(count: number, seed: number): Promise<void> {
      const wave = wordLines(count, seed)
      await produceLines(client, topic, partitions, wave, lines.length)
      lines.push(...wave)
    },
    /** Every partition's end offset after all waves so far. */
    ends: () => endOffsets(topic, partitions, lines.length),
  }
}

export interface ScenarioOptions {
  readonly partitions: number
  readonly topic: Awaited<ReturnType<typeof wavesTopic>>
  /** Starts one more process of the job. */
  readonly start: () => ChildJob
  /** Resolves once the sink's offsets reach every partition's log end. */
  readonly caughtUp: (what: string) => Promise<void>
  /** While the zombie sleeps, once the others hold its partitions: what the sink shows of the takeover. */
  readonly takenOver?: (survivors: readonly ChildJob[]) => Promise<void>
  /** What the zombie's late batch was refused with (its `refused:` line, without the prefix). */
  readonly zombieRefusal: RegExp
}

/**
 * Three processes share the topic; one is killed (the other two take its partitions over and
 * keep their own), a fourth joins (it gets a share), and one stops inside a batch's
 * transaction past its session timeout (the others take over; when it wakes up its late batch
 * is refused and it rejoins). Data arrives in waves throughout. Returns the processes still
 * running.
 */
export async function killJoinZombie(options: ScenarioOptions): Promise<ChildJob[]> {
  const { partitions, topic, start, caughtUp } = options
  await topic.produce(6_000, 1)
  const a = start()
  const b = start()
  const c = start()
  const three = await settled([a, b, c], partitions)
  assertBalanced(three)
  await caughtUp('with three processes')

  // Killed outright: noticed after the session timeout; the other two keep their own partitions.
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

  // A fourth process joins and gets a share, taken from the others.
  const d = start()
  const withD = await settled([a, c, d], partitions)
  assertBalanced(withD)
  await topic.produce(3_000, 3)
  await caughtUp('after the join')

  // A zombie: `a` stops inside a batch's transaction, long past its session timeout. The
  // others take its partitions over and process on; when it wakes up its late batch is refused.
  a.process.stdin!.write('pause\n')
  const paused = await a.waitFor((l) => l.startsWith('paused in-transaction:'))
  const lateBatch = Number(paused.split(':')[1])
  a.process.kill('SIGSTOP')
  await topic.produce(3_000, 4)
  await settled([c, d], partitions)
  await options.takenOver?.([c, d])
  await caughtUp('while the zombie sleeps')
  a.process.kill('SIGCONT')
  a.process.stdin!.write('resume\n')
  await a.waitFor(`withdrawn:${lateBatch}`)
  const refusal = a.lines.findLast((l) => l.startsWith('refused:'))
  assert.match(refusal ?? '', options.zombieRefusal, a.describe())
  const back = await settled([a, c, d], partitions)
  assertBalanced(back)
  assert.ok(back[0]!.generation > withD[0]!.generation)
  await topic.produce(3_000, 5)
  await caughtUp('after the zombie came back')
  return [a, c, d]
}

/** Stops the processes gracefully and checks that each exited cleanly. */
export async function stopAll(jobs: readonly ChildJob[]): Promise<void> {
  for (const job of jobs) {
    assert.equal(await job.kill('SIGTERM'), 0, job.describe())
    assert.ok(job.lines.includes('stopped'), job.describe())
  }
}

/** One shared word count job: its processes, where its sink stores offsets, and its output. */
export interface SharedDeployment {
  readonly topic: Awaited<ReturnType<typeof wavesTopic>>
  /**
   * Starts one more process; `extra` adds to (or overrides) the environment. Each Kafka-sink
   * process gets its own transactional id — its INSTANCE_ID's, when it has one.
   */
  start(extra?: Record<string, string>): ChildJob
  /** Resolves once the sink's stored offsets reach every partition's log end. */
  caughtUp(what: string): Promise<void>
  /** The output's counts per word, read independently of sluice (SQL, or Kafka's Java consumer). */
  counts(): Promise<Map<string, number>>
  /** The sink's offsets table rows (SQL only). */
  readonly world: { readonly sql?: SqlJobWorld }
}

/**
 * A word count whose processes share a `partitions`-partition topic through a consumer group
 * (or, with SPLIT in `extra`, a static split) and write to PostgreSQL or to the Kafka sink.
 */
export async function sharedDeployment(
  t: TestContext,
  sink: 'postgres' | 'kafka',
  partitions: number,
): Promise<SharedDeployment> {
  const startJob = jobStarter(t, fixtures.sharedWordCount)
  const topic = await wavesTopic(t, partitions)
  const group = randomTopicName('group')
  const base = { ...rate, ...groupTimeouts, GROUP_ID: group }
  const caughtUpOn = (stored: () => Promise<Record<string, Record<number, bigint>>>) => (what: string) =>
    eventually(
      async () => reached(await stored(), topic.ends()),
      `the stored offsets to reach the log ends ${what}`,
      {
        timeoutMs: 120_000,
        intervalMs: 200,
      },
    )
  if (sink === 'postgres') {
    const sql = await sqlJobWorld(t, 'postgres')
    return {
      topic,
      start: (extra = {}) => startJob(sql.env(topic.topic, { ...base, ...extra })),
      caughtUp: caughtUpOn(() => sql.stored()),
      counts: () => sql.counts(),
      world: { sql },
    }
  }
  const world = await kafkaJobWorld(t, topic.client)
  let processes = 0
  // Not requireStable: with batches committing all the time some offsets are always pending.
  const stored = async () => {
    const result: Record<string, Record<number, bigint>> = {}
    for (const o of await topic.client.groupOffsets(group)) {
      result[o.topic] ??= {}
      result[o.topic]![o.partition] = o.offset
    }
    return result
  }
  return {
    topic,
    start: (extra = {}) =>
      startJob(
        world.env(topic.topic, {
          ...base,
          // A static member keeps its transactional id across restarts, as a pod keeps its name.
          TRANSACTIONAL_ID: `${world.app}-${extra.INSTANCE_ID ?? processes++}`,
          TRANSACTION_TIMEOUT_MS: '60000',
          ...extra,
        }),
      ),
    caughtUp: caughtUpOn(stored),
    counts: () => world.counts(),
    world: {},
  }
}

/** The `paused in-transaction:<id>` line of the batch paused after batch `after`: its id. */
export async function pausedBatch(job: ChildJob, after = -1): Promise<number> {
  job.process.stdin!.write('pause\n')
  const line = await job.waitFor(
    (l) => l.startsWith('paused in-transaction:') && Number(l.split(':')[1]) > after,
  )
  return Number(line.split(':')[1])
}
