import assert from 'node:assert/strict'
import type { TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { type ChildJob, finishRun, outcomes } from './child-job.ts'

export interface PreciseKill {
  /** The fixture's marker to kill the job at. */
  readonly at: string
  /** The outcome line the next run prints when it re-runs that batch. */
  readonly replayOutcome: string
}

/** The precise moments the jobs are killed at, in order; then two random moments. */
export const preciseKills: readonly PreciseKill[] = [
  // The batch's output is computed from its ranges; the sink's transaction has not begun.
  { at: 'before-transaction:1', replayOutcome: 'outcome:1:replay:applied' },
  // Inside the transaction: the output is written but not committed.
  { at: 'in-transaction:3', replayOutcome: 'outcome:3:replay:applied' },
  // The sink committed output and offsets; the checkpoint's commit entry is not written.
  { at: 'after-commit:5', replayOutcome: 'outcome:5:replay:already-applied' },
]

export interface CrashScenario {
  /** Starts a job with the test's environment plus `extra`. */
  readonly start: (extra?: Record<string, string>) => ChildJob
  /** True once the sink holds the output of every record produced. */
  readonly finished: () => Promise<boolean>
  /** Default: `preciseKills`. */
  readonly kills?: readonly PreciseKill[]
}

/**
 * SIGKILLs the job at three precise moments of a batch (each time the next run must
 * replay that batch with the outcome the sink promises), then twice at random moments,
 * then lets a last run finish everything and stops it gracefully.
 */
export async function crashFiveTimesThenFinish(t: TestContext, scenario: CrashScenario): Promise<ChildJob[]> {
  const jobs: ChildJob[] = []
  const kills = scenario.kills ?? preciseKills
  for (const kill of kills) {
    const job = scenario.start({ PAUSE_AT: kill.at })
    jobs.push(job)
    await job.waitFor(`paused ${kill.at}`)
    await job.kill()
  }
  for (let i = 1; i <= 2; i++) {
    const job = scenario.start()
    jobs.push(job)
    await job.waitFor('started')
    const delay = 100 + Math.floor(Math.random() * 700)
    t.diagnostic(`random kill ${i} after ${delay} ms`)
    await sleep(delay)
    await job.kill()
  }
  const last = scenario.start()
  jobs.push(last)
  await finishRun(last, scenario.finished)

  // Each precisely killed batch was re-run by the next run, with the outcome that proves it
  // was neither lost (applied now) nor repeated (already applied).
  for (const [i, kill] of kills.entries()) {
    const batchId = kill.at.split(':')[1]
    const rerun = jobs
      .slice(i + 1)
      .map((job) => outcomes(job).find((l) => l.startsWith(`outcome:${batchId}:`)))
      .find((line) => line !== undefined)
    assert.equal(rerun, kill.replayOutcome, `the first re-run of batch ${batchId}`)
  }
  return jobs
}
