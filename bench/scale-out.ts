import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { nodeCase } from './case-process.ts'
import type { Bench } from './registry.ts'
import { scaleOutGroupTimeouts } from './scale-out-settings.ts'
import { durablePostgres, fillWithLines } from './sink-wordcount.ts'
import { batchIntervalMs, maxRatePerPartition } from './sink-wordcount-settings.ts'

const partitions = 8
/** SCALE_OUT_RECORDS runs it smaller (a multiple of 8). */
const total = Number(process.env.SCALE_OUT_RECORDS ?? 4_000_000)
const perPartition = Math.floor(total / partitions)
const memberFile = join(import.meta.dirname, 'cases', 'scale-out-member.ts')

interface Assignment {
  readonly generation: number
  readonly partitions: readonly number[]
}

/** One member process (bench/cases/scale-out-member.ts) and what it printed. */
class Member {
  readonly child: ChildProcess
  readonly assignments: Assignment[] = []
  readonly exited: Promise<number | null>
  ready = false

  constructor(args: readonly string[]) {
    const { command, args: commandArgs } = nodeCase(memberFile, args)
    this.child = spawn(command, commandArgs, {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, SLUICE_LOG_LEVEL: 'warn' },
    })
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const parsed = JSON.parse(line) as { assigned?: Assignment; ready?: boolean }
      if (parsed.assigned) this.assignments.push(parsed.assigned)
      if (parsed.ready) this.ready = true
    })
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)))
  }

  get latest(): Assignment | undefined {
    return this.assignments.at(-1)
  }
}

/** One deployment of the job: its own app, tables and group, over the bench's topic. */
class Run {
  readonly members: Member[] = []
  readonly #db: pg.Client
  readonly #args: string[]
  readonly #offsetsTable: string
  readonly #table: string
  readonly #app: string

  private constructor(db: pg.Client, brokers: readonly string[], topic: string, url: string) {
    const suffix = randomBytes(4).toString('hex')
    this.#db = db
    this.#app = `scale-${suffix}`
    this.#table = `counts_${suffix}`
    this.#offsetsTable = `offsets_${suffix}`
    this.#args = [
      brokers.join(','),
      topic,
      `group-${suffix}`,
      this.#app,
      url,
      this.#table,
      this.#offsetsTable,
    ]
  }

  static async create(db: pg.Client, brokers: readonly string[], topic: string, url: string): Promise<Run> {
    const run = new Run(db, brokers, topic, url)
    // The examples' counts table (examples/wordcount-sql.ts); the orchestrator does not import 'sluice'.
    await db.query(`CREATE TABLE "${run.#table}" (word TEXT PRIMARY KEY, count BIGINT NOT NULL)`)
    return run
  }

  /** Starts `count` processes, and once every one has loaded, lets them all go at once. */
  async start(count: number): Promise<void> {
    const started = Array.from({ length: count }, () => new Member(this.#args))
    this.members.push(...started)
    while (!started.every((m) => m.ready)) await sleep(20)
    for (const m of started) m.child.stdin!.write('go\n')
  }

  /** Waits until `members` share the partitions in one generation newer than `after`. */
  async settled(members: readonly Member[], after = -1): Promise<number> {
    for (const deadline = Date.now() + 180_000; Date.now() < deadline; await sleep(20)) {
      const latest = members.map((m) => m.latest)
      if (latest.some((a) => a === undefined || a.generation <= after)) continue
      const generations = new Set(latest.map((a) => a!.generation))
      const all = latest.flatMap((a) => a!.partitions)
      if (generations.size === 1 && all.length === partitions && new Set(all).size === partitions) {
        return latest[0]!.generation
      }
    }
    throw new Error(
      `${members.length} members did not settle: ${JSON.stringify(members.map((m) => m.latest))}`,
    )
  }

  /** The stored offset of each partition (0 when it has none yet). */
  async offsets(): Promise<number[]> {
    const result = Array<number>(partitions).fill(0)
    const exists = await this.#db.query('SELECT to_regclass($1) AS t', [this.#offsetsTable])
    if (exists.rows[0].t === null) return result
    const rows = await this.#db.query(
      `SELECT "partition", until_offset FROM "${this.#offsetsTable}" WHERE app = $1`,
      [this.#app],
    )
    for (const row of rows.rows) result[Number(row.partition)] = Number(row.until_offset)
    return result
  }

  async until(done: (offsets: number[]) => boolean, what: string): Promise<number[]> {
    for (const deadline = Date.now() + 600_000; Date.now() < deadline; await sleep(50)) {
      const offsets = await this.offsets()
      if (done(offsets)) return offsets
    }
    throw new Error(`timed out waiting for ${what}`)
  }

  async wordsCounted(): Promise<number> {
    const result = await this.#db.query(`SELECT COALESCE(SUM(count), 0) AS n FROM "${this.#table}"`)
    return Number(result.rows[0].n)
  }

  async stop(): Promise<void> {
    for (const m of this.members) m.child.kill('SIGTERM')
    await Promise.all(this.members.map((m) => m.exited))
    await this.#db.query(`DROP TABLE IF EXISTS "${this.#table}", "${this.#offsetsTable}"`)
  }
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0)

/** Records/s of `count` processes, from the moment they share the partitions to the end. */
async function throughput(run: Run, count: number, words: number) {
  await run.start(count)
  await run.settled(run.members)
  const startedAt = performance.now()
  const before = sum(await run.offsets())
  await run.until((o) => sum(o) === partitions * perPartition, 'the last record')
  const ms = performance.now() - startedAt
  const counted = await run.wordsCounted()
  if (counted !== words) throw new Error(`${count} processes counted ${counted} words, expected ${words}`)
  return {
    count,
    before,
    ms,
    recordsPerSecond: Math.round(((partitions * perPartition - before) / ms) * 1000),
  }
}

/**
 * Kills one of `count` processes a quarter of the way through: how long until the survivors
 * hold its partitions (a new generation), and until every one of them has a batch committed
 * by its new owner.
 */
async function move(run: Run, count: number, signal: NodeJS.Signals) {
  await run.start(count)
  const generation = await run.settled(run.members)
  await run.until((o) => sum(o) >= (partitions * perPartition) / 4, 'a quarter of the records')
  const victim = run.members.at(-1)!
  const moved = victim.latest!.partitions
  const killedAt = performance.now()
  victim.child.kill(signal)
  await victim.exited
  // Read once it is gone: its last commit (a graceful stop finishes its batch) is in.
  const atKill = await run.offsets()
  const survivors = run.members.slice(0, -1)
  await run.settled(survivors, generation)
  const reassignedMs = performance.now() - killedAt
  await run.until(
    (o) => moved.every((p) => o[p]! > atKill[p]! || o[p] === perPartition),
    'the moved partitions to commit under their new owners',
  )
  return { count, signal, moved: moved.length, reassignedMs, movedMs: performance.now() - killedAt }
}

export const scaleOut: Bench = {
  name: 'scale-out',
  description:
    `Word count over ${(partitions * perPartition).toLocaleString('en')} records (lines of 3-8 words) in ${partitions} ` +
    `partitions, shared by 1, 2 and 3 processes in one consumer group, into PostgreSQL (fsync on) through the ` +
    `exactly-once SQL sink; ${batchIntervalMs} ms batches of at most ${maxRatePerPartition.toLocaleString('en')} ` +
    'records per partition per second. records/s counts from the moment the processes share the partitions ' +
    '(one generation) to the commit of the last record; every run checks that the counts add up to every word ' +
    `once. Then one process of 2 or 3 is killed (SIGKILL) or stopped (SIGTERM) a quarter of the way through ` +
    `(session timeout ${scaleOutGroupTimeouts.sessionTimeoutMs} ms, heartbeat ${scaleOutGroupTimeouts.heartbeatIntervalMs} ms): ` +
    'the time until the survivors hold its partitions, and until each of them has a batch committed by its new ' +
    'owner. The broker, PostgreSQL and the processes share the machine.',
  async run({ client, brokers }) {
    const topic = `bench-scale-out-${Date.now()}`
    await client.createTopics([{ name: topic, partitions }])
    const { url, server } = await durablePostgres()
    const db = new pg.Client({ connectionString: url })
    await db.connect()
    try {
      const words = await fillWithLines(client, topic, partitions, perPartition)
      const rates = []
      for (const count of [1, 2, 3]) {
        const run = await Run.create(db, brokers, topic, url)
        try {
          rates.push(await throughput(run, count, words))
        } finally {
          await run.stop()
        }
      }
      const moves = []
      for (const [count, signal] of [
        [2, 'SIGKILL'],
        [3, 'SIGKILL'],
        [3, 'SIGTERM'],
      ] as const) {
        const run = await Run.create(db, brokers, topic, url)
        try {
          moves.push(await move(run, count, signal))
        } finally {
          await run.stop()
        }
      }
      const one = rates[0]!.recordsPerSecond
      return [
        '| processes | records/s | vs 1 process | records before they shared the partitions | seconds |',
        '|---:|---:|---:|---:|---:|',
        ...rates.map(
          (r) =>
            `| ${r.count} | ${r.recordsPerSecond.toLocaleString('en')} | ${(r.recordsPerSecond / one).toFixed(2)}x | ${r.before.toLocaleString('en')} | ${(r.ms / 1000).toFixed(1)} |`,
        ),
        '',
        '| processes | one process | partitions moved | survivors hold them after | first commit by the new owners after |',
        '|---:|---|---:|---:|---:|',
        ...moves.map(
          (m) =>
            `| ${m.count} | ${m.signal === 'SIGKILL' ? 'killed (SIGKILL)' : 'stopped (SIGTERM)'} | ${m.moved} | ${(m.reassignedMs / 1000).toFixed(1)} s | ${(m.movedMs / 1000).toFixed(1)} s |`,
        ),
      ]
    } finally {
      await db.end()
      await client.deleteTopics([topic])
      await server?.stop()
    }
  },
}
