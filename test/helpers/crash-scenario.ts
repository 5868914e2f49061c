import assert from 'node:assert/strict'
import type { TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { type ChildJob, finishRun, outcomes } from './child-job.ts'

export interface PreciseKill {
  /** The fixture's marker to kill the job at ("<marker>:<batch id>"). */
  readonly at: string
  /** The batch the kill interrupts; by default the id in `at`. */
  readonly batch?: number
  /**
   * The outcome line the next run that reaches the batch prints for it: a replay, applied or
   * found already applied. Undefined when the batch was committed before the kill, so that
   * no later run may output it again.
   */
  readonly replayOutcome: string | undefined
  /** Checks what the kill left behind, before the next run starts. */
  readonly check?: () => Promise<void>
}

/**
 * The moments to kill a job that writes through an exactly-once sink (the sink word count
 * fixture's hooks around the sink's transaction), each in a different batch.
 */
export const transactionKills: readonly PreciseKill[] = [
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
  /** The precise moments to kill the job at, in order. */
  readonly kills: readonly PreciseKill[]
  /** How many times to kill a run at a random moment after the precise kills. Default 2. */
  readonly randomKills?: number
  /** The last run goes on at least until this batch is committed (and until it has caught up). */
  readonly lastBatch?: number
}

/**
 * SIGKILLs the job at precise moments of its batches, then at random moments, then lets a
 * last run catch up (an empty batch committed) and stops it gracefully. Each precisely
 * killed batch must have been re-run by the next run that reached it, with the outcome the
 * job promises (neither lost: applied now; nor repeated: already applied). Returns every run.
 */
export async function crashThenFinish(t: TestContext, scenario: CrashScenario): Promise<ChildJob[]> {
  const jobs: ChildJob[] = []
  for (const kill of scenario.kills) {
    const job = scenario.start({ PAUSE_AT: kill.at })
    jobs.push(job)
    await job.waitFor(`paused ${kill.at}`)
    await job.kill()
    await kill.check?.()
  }
  for (let i = 1; i <= (scenario.randomKills ?? 2); i++) {
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
  await finishRun(last, scenario.lastBatch)

  for (const [i, kill] of scenario.kills.entries()) {
    const batchId = String(kill.batch ?? kill.at.split(':').at(-1))
    // The first later run to report the batch's outcome. A random kill may have stopped an
    // earlier re-run after the sink committed the batch but before the outcome was printed:
    // the batch is then found already applied, which is as exact as applying it.
    let interrupted = false
    let rerun: string | undefined
    for (const job of jobs.slice(i + 1)) {
      rerun = outcomes(job).find((l) => l.startsWith(`outcome:${batchId}:`))
      if (rerun !== undefined) break
      if (job.lines.some((l) => l.startsWith(`ranges:${batchId}:`))) interrupted = true
    }
    const allowed =
      kill.replayOutcome !== undefined && interrupted
        ? [kill.replayOutcome, `outcome:${batchId}:replay:already-applied`]
        : [kill.replayOutcome]
    assert.ok(
      allowed.includes(rerun),
      `the first re-run of batch ${batchId}: ${rerun}, expected ${allowed.join(' or ')}`,
    )
  }
  // A batch's output runs once per run that reaches it, and never again once a run has
  // committed it: a later call would apply it twice.
  const committed = new Set<string>()
  for (const [i, job] of jobs.entries()) {
    const calls = outcomes(job).map((line) => line.split(':')[1]!)
    assert.deepEqual(calls, [...new Set(calls)], `run ${i + 1} output no batch twice`)
    const again = calls.filter((id) => committed.has(id))
    assert.deepEqual(again, [], `run ${i + 1} output no batch an earlier run had committed`)
    for (const line of job.lines) if (line.startsWith('committed:')) committed.add(line.slice(10))
  }
  return jobs
}
