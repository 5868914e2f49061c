// The parent side of the crash tests: a job runs as a child process (a fixture under
// test/fixtures/), prints marker lines (test/helpers/child-markers.ts), and the test waits
// for markers, kills the process at one, or lets a paused one go on.
import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { TestContext } from 'node:test'

/** The fixtures that run a job as a child process. */
export const fixtures = {
  /** The sink word count examples (SINK=postgres|sqlite|kafka|files). */
  sinkWordCount: join(import.meta.dirname, '..', 'fixtures', 'sink-wordcount-child.ts'),
  /** The SQLite word count example (examples/wordcount.ts). */
  wordCount: join(import.meta.dirname, '..', 'fixtures', 'wordcount-child.ts'),
  /** One process of a word count whose partitions several processes share (a group or a static split). */
  sharedWordCount: join(import.meta.dirname, '..', 'fixtures', 'shared-wordcount-child.ts'),
  /** Stateful jobs: JOB=totals (updateStateByKey) or JOB=windows (an incremental window). */
  state: join(import.meta.dirname, '..', 'fixtures', 'state-child.ts'),
  /** A direct stream printing every record it reads (checkpoint tools, poison records): see the file. */
  records: join(import.meta.dirname, '..', 'fixtures', 'records-child.ts'),
  /** A receiver stream job writing each batch to a file (WAL=1 for reliable mode). */
  receiver: join(import.meta.dirname, '..', 'fixtures', 'receiver-child.ts'),
} as const

/** What the child printed when its stream or its start failed (see child-markers.ts). */
export interface ChildError {
  readonly code: string
  readonly message: string
  readonly cause: { readonly code?: string; readonly message?: string }
}

/** How long a job may take to print a marker before the test fails (the machine is shared and slow). */
const defaultWaitMs = 120_000

/** One run of a fixture: every stdout line is kept, stderr too, for failure messages. */
export class ChildJob {
  readonly process: ChildProcess
  readonly lines: string[] = []
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  #stderr = ''
  #waiters = new Set<() => void>()
  #done = false

  constructor(fixture: string, env: Record<string, string>) {
    this.process = spawn(process.execPath, [fixture], {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    this.process.stderr!.on('data', (chunk: Buffer) => {
      this.#stderr += chunk.toString()
    })
    createInterface({ input: this.process.stdout! }).on('line', (line) => {
      this.lines.push(line)
      for (const wake of this.#waiters) wake()
    })
    this.exited = new Promise((resolve) => {
      this.process.once('close', (code, signal) => {
        this.#done = true
        for (const wake of this.#waiters) wake()
        resolve({ code, signal })
      })
    })
  }

  /**
   * Resolves with the first line (from the start of the run) that equals `wanted` or
   * satisfies it. Fails, with the last lines and stderr, if the job exits first or the
   * line does not come within `timeoutMs`.
   */
  async waitFor(wanted: string | ((line: string) => boolean), timeoutMs = defaultWaitMs): Promise<string> {
    const matches = typeof wanted === 'string' ? (line: string) => line === wanted : wanted
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = this.lines.find(matches)
      if (found !== undefined) return found
      if (this.#done || Date.now() > deadline) {
        throw new Error(
          `${this.#done ? 'the job exited' : `timed out after ${timeoutMs} ms`} before printing ${String(wanted)}; ` +
            `${this.describe()}`,
        )
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.#waiters.delete(wake)
          clearTimeout(timer)
          resolve()
        }
        const timer = setTimeout(wake, Math.max(0, deadline - Date.now()) + 1)
        this.#waiters.add(wake)
      })
    }
  }

  /** Lets a job paused with PAUSE_MODE=resume go on. */
  resume(): void {
    this.process.stdin!.write('resume\n')
  }

  /** Sends `signal` (SIGKILL by default) and resolves with the exit code once the process is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    if (!this.#done) this.process.kill(signal)
    return (await this.exited).code
  }

  /** The error the job printed before exiting (`stream-error` or `start-error`). */
  async failure(kind: 'stream-error' | 'start-error' = 'stream-error'): Promise<ChildError> {
    const line = await this.waitFor((l) => l.startsWith(`${kind} `))
    return JSON.parse(line.slice(kind.length + 1)) as ChildError
  }

  get stderr(): string {
    return this.#stderr
  }

  /** The end of the job's output, for failure messages. */
  describe(): string {
    return `last lines: ${this.lines.slice(-15).join(' | ')}; stderr: ${this.#stderr.slice(-3000)}`
  }
}

/**
 * Starts runs of `fixture` for a test and kills whatever is still running when it ends. Call
 * it first in the test: t.after hooks run in the order they were added, and a job still
 * holding a lock or a file must be gone before the tables or directories are removed.
 */
export function jobStarter(t: TestContext, fixture: string): (env: Record<string, string>) => ChildJob {
  const jobs: ChildJob[] = []
  t.after(async () => {
    for (const job of jobs) await job.kill()
  })
  return (env) => {
    const job = new ChildJob(fixture, env)
    jobs.push(job)
    return job
  }
}

export interface PlannedRange {
  readonly topic: string
  readonly partition: number
  readonly fromOffset: bigint
  readonly untilOffset: bigint
}

function parseRanges(text: string): PlannedRange[] {
  if (text === '') return []
  return text.split(',').map((entry) => {
    const match = /^(.*)-(\d+):(\d+)-(\d+)$/.exec(entry)
    if (!match) throw new Error(`cannot parse range '${entry}'`)
    return {
      topic: match[1]!,
      partition: Number(match[2]),
      fromOffset: BigInt(match[3]!),
      untilOffset: BigInt(match[4]!),
    }
  })
}

/** Parses the `ranges:<id>:t-p:from-until,...` line of batch `id`. */
export function rangesOf(job: ChildJob, id: number): PlannedRange[] {
  const line = job.lines.find((l) => l.startsWith(`ranges:${id}:`))
  if (line === undefined) throw new Error(`batch ${id} was not planned by this job`)
  return parseRanges(line.slice(`ranges:${id}:`.length))
}

/**
 * Every batch the jobs planned, by id, from their `ranges:` lines. A batch planned by more
 * than one run (a re-run after a crash) must have had the same ranges each time: that is
 * what makes a re-run reproduce its output, so a difference fails here.
 */
export function plannedBatches(jobs: readonly ChildJob[]): Map<number, PlannedRange[]> {
  const batches = new Map<number, { text: string; ranges: PlannedRange[] }>()
  for (const job of jobs) {
    for (const line of job.lines) {
      const match = /^ranges:(\d+):(.*)$/.exec(line)
      if (!match) continue
      const id = Number(match[1])
      const earlier = batches.get(id)
      if (earlier !== undefined && earlier.text !== match[2]) {
        throw new Error(`batch ${id} was re-planned with other ranges: '${earlier.text}', then '${match[2]}'`)
      }
      batches.set(id, { text: match[2]!, ranges: parseRanges(match[2]!) })
    }
  }
  return new Map([...batches].sort(([a], [b]) => a - b).map(([id, { ranges }]) => [id, ranges]))
}

/** The fixture's `stored {...}` line: the offsets the sink handed the stream as startingOffsets. */
export async function storedOffsetsOf(job: ChildJob): Promise<Record<string, Record<string, string>>> {
  const line = await job.waitFor((l) => l.startsWith('stored '))
  return JSON.parse(line.slice('stored '.length)) as Record<string, Record<string, string>>
}

/** The batch ranges' until-offsets, in the shape the fixture prints `stored` in. */
export function untilOffsetsOf(ranges: readonly PlannedRange[]): Record<string, Record<string, string>> {
  const result: Record<string, Record<string, string>> = {}
  for (const r of ranges) {
    result[r.topic] ??= {}
    result[r.topic]![String(r.partition)] = String(r.untilOffset)
  }
  return result
}

/** The job's `outcome:<id>:<replay|first>:<outcome>` lines, in order: one per output call. */
export function outcomes(job: ChildJob): string[] {
  return job.lines.filter((l) => l.startsWith('outcome:'))
}

/**
 * Waits until the job has committed a batch whose ranges are all empty: the stream has
 * caught up, every batch with data before it is committed, and empty batches must not fail
 * either. Returns that batch's id.
 */
export async function caughtUp(job: ChildJob, timeoutMs = defaultWaitMs): Promise<number> {
  const line = await job.waitFor((l) => {
    const match = /^ranges:(\d+):(.*)$/.exec(l)
    return match !== null && parseRanges(match[2]!).every((r) => r.fromOffset === r.untilOffset)
  }, timeoutMs)
  const id = Number(line.split(':')[1])
  await job.waitFor(`committed:${id}`, timeoutMs)
  return id
}

/**
 * Lets a running job finish: waits until it has committed an empty batch (everything
 * produced so far is committed) and batch `lastBatch` when given, then stops it gracefully
 * and checks that it exited with code 0. Returns the empty batch's id.
 */
export async function finishRun(job: ChildJob, lastBatch?: number): Promise<number> {
  const emptyBatch = await caughtUp(job)
  if (lastBatch !== undefined) await job.waitFor(`committed:${lastBatch}`)
  const code = await job.kill('SIGTERM')
  if (code !== 0 || !job.lines.includes('stopped')) {
    throw new Error(`a graceful stop exited with ${code}; ${job.describe()}`)
  }
  return emptyBatch
}
