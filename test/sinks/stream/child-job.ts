import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'

const child = join(import.meta.dirname, '..', '..', 'fixtures', 'sink-wordcount-child.ts')

/** What the child printed when its stream or its start failed (see the fixture). */
export interface ChildError {
  readonly code: string
  readonly message: string
  readonly cause: { readonly code?: string; readonly message?: string }
}

/**
 * One run of `test/fixtures/sink-wordcount-child.ts`: every stdout line is kept, and the
 * test waits for marker lines, kills the process at a marker, or lets a paused one go on.
 */
export class ChildJob {
  readonly process: ChildProcess
  readonly lines: string[] = []
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  #stderr = ''
  #waiters = new Set<() => void>()
  #done = false

  constructor(env: Record<string, string>) {
    this.process = spawn(process.execPath, [child], {
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

  /** Resolves with the first line (from the start of the run) that equals `wanted` or satisfies it. */
  async waitFor(wanted: string | ((line: string) => boolean), timeoutMs = 60_000): Promise<string> {
    const matches = typeof wanted === 'string' ? (line: string) => line === wanted : wanted
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = this.lines.find(matches)
      if (found !== undefined) return found
      if (this.#done || Date.now() > deadline) {
        throw new Error(
          `${this.#done ? 'the job exited' : `timed out after ${timeoutMs} ms`} before printing ${String(wanted)}; ` +
            `last lines: ${this.lines.slice(-15).join(' | ')}; stderr: ${this.#stderr.slice(-3000)}`,
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

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    this.process.kill(signal)
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
}

/** Parses the fixture's `ranges:<id>:t-p:from-until,...` line of batch `id`. */
export function rangesOf(
  job: ChildJob,
  id: number,
): { topic: string; partition: number; fromOffset: bigint; untilOffset: bigint }[] {
  const line = job.lines.find((l) => l.startsWith(`ranges:${id}:`))
  if (line === undefined) throw new Error(`batch ${id} was not planned by this job`)
  const text = line.slice(`ranges:${id}:`.length)
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

/** The fixture's `stored {...}` line: the offsets the sink handed the stream as startingOffsets. */
export async function storedOffsetsOf(job: ChildJob): Promise<Record<string, Record<string, string>>> {
  const line = await job.waitFor((l) => l.startsWith('stored '))
  return JSON.parse(line.slice('stored '.length)) as Record<string, Record<string, string>>
}

/** The batch ranges' until-offsets, in the shape the fixture prints `stored` in. */
export function untilOffsetsOf(ranges: ReturnType<typeof rangesOf>): Record<string, Record<string, string>> {
  const result: Record<string, Record<string, string>> = {}
  for (const r of ranges) {
    result[r.topic] ??= {}
    result[r.topic]![String(r.partition)] = String(r.untilOffset)
  }
  return result
}

/** The job's `outcome:<id>:<replay|first>:<outcome>` lines, in order. */
export function outcomes(job: ChildJob): string[] {
  return job.lines.filter((l) => l.startsWith('outcome:'))
}

/**
 * Starts child jobs for a test and kills whatever is still running when it ends. Call it
 * first in the test: t.after hooks run in the order they were added, and a job still
 * holding a lock must be gone before the tables are dropped.
 */
export function jobStarter(t: TestContext): (env: Record<string, string>) => ChildJob {
  const jobs: ChildJob[] = []
  t.after(async () => {
    for (const job of jobs) {
      if (job.process.exitCode === null && job.process.signalCode === null) await job.kill()
    }
  })
  return (env) => {
    const job = new ChildJob(env)
    jobs.push(job)
    return job
  }
}

/**
 * Waits until the job has committed a batch whose ranges are all empty: a stream that has
 * caught up goes on writing empty batches, and those must not fail either.
 */
export async function caughtUp(job: ChildJob): Promise<void> {
  const line = await job.waitFor((l) => {
    const match = /^ranges:(\d+):(.*)$/.exec(l)
    return match !== null && match[2]!.split(',').every((entry) => /:(\d+)-\1$/.test(entry))
  })
  await job.waitFor(`committed:${line.split(':')[1]}`)
}

/**
 * Lets a running job finish: waits until `finished` holds (the sink has everything), then
 * until the job has also committed an empty batch, then stops it gracefully (exit code 0).
 */
export async function finishRun(job: ChildJob, finished: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 120_000
  while (!(await finished())) {
    if (Date.now() > deadline || job.process.exitCode !== null) {
      throw new Error(
        `the job did not finish: ${job.lines.slice(-10).join(' | ')}; stderr: ${job.stderr.slice(-3000)}`,
      )
    }
    await sleep(100)
  }
  await caughtUp(job)
  const code = await job.kill('SIGTERM')
  if (code !== 0 || !job.lines.includes('stopped')) {
    throw new Error(`a graceful stop exited with ${code}: ${job.lines.slice(-6).join(' | ')} ${job.stderr}`)
  }
}
