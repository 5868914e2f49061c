// Runs a job of test/fixtures/ (state-child.ts unless told) as a child process and drives it
// by its output markers.
import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

const child = join(import.meta.dirname, '..', 'fixtures', 'state-child.ts')

export interface Job {
  readonly process: ChildProcess
  readonly lines: AsyncIterableIterator<string>
}

export function startJob(env: Record<string, string>, script = child): Job {
  const proc = spawn(process.execPath, [script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  return { process: proc, lines: createInterface({ input: proc.stdout! })[Symbol.asyncIterator]() }
}

/**
 * Reads the job's output until a line equals (or matches) `wanted`; returns that line. Fails
 * if the job exits first, or after `timeoutMs` (the job is then killed) rather than hanging.
 */
export async function waitForLine(job: Job, wanted: string | RegExp, timeoutMs = 120_000): Promise<string> {
  const found = (async () => {
    for (;;) {
      const { value, done } = await job.lines.next()
      if (done) throw new Error(`the job exited before printing '${wanted}'`)
      if (typeof wanted === 'string' ? value === wanted : wanted.test(value)) return value
    }
  })()
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      job.process.kill('SIGKILL')
      reject(new Error(`the job did not print '${wanted}' within ${timeoutMs} ms`))
    }, timeoutMs)
  })
  try {
    return await Promise.race([found, timedOut])
  } finally {
    clearTimeout(timer)
  }
}

export async function kill(job: Job, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
  if (job.process.exitCode !== null) return job.process.exitCode
  const exited = exitOf(job)
  job.process.kill(signal)
  return (await exited).code
}

/** How the job ended: its exit code, or the signal that killed it. */
export function exitOf(job: Job): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const { exitCode, signalCode } = job.process
  if (exitCode !== null || signalCode !== null) return Promise.resolve({ code: exitCode, signal: signalCode })
  return new Promise((resolve) => job.process.once('exit', (code, signal) => resolve({ code, signal })))
}

/** Deterministic pseudo-random non-negative integers (mulberry32), so a failure can be reproduced. */
export function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }
}
