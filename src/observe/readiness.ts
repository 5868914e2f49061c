import type { JobStatus } from './history.ts'

export interface ReadinessInput {
  readonly status: JobStatus
  readonly now: number
  readonly startedAt: number
  /** Wall time the newest batch finished; null before the first. */
  readonly lastCompletedAt: number | null
  readonly batchInterval: number
  /** How many batch intervals may pass without a finished batch before the job is unready. */
  readonly intervals: number
}

export interface Readiness {
  readonly ready: boolean
  readonly reason: string
}

/**
 * Ready means the stream is active and a batch finished within the last `intervals` batch
 * intervals (counting from the start before the first batch). A stalled output, a hung
 * broker or a batch far larger than the interval all make it unready, which is what an
 * orchestrator or a load balancer should hear; a long recovery at start does too.
 */
export function readiness(input: ReadinessInput): Readiness {
  if (input.status === 'failed') return { ready: false, reason: 'the stream failed' }
  if (input.status !== 'active') return { ready: false, reason: `the stream is ${input.status}` }
  const limit = input.intervals * input.batchInterval
  const since = input.lastCompletedAt ?? input.startedAt
  const quiet = Math.max(0, input.now - since)
  const what = input.lastCompletedAt === null ? 'since the stream started' : 'since the last batch finished'
  if (quiet > limit) {
    return {
      ready: false,
      reason: `no batch finished for ${quiet} ms ${what} (more than ${input.intervals} batch intervals of ${input.batchInterval} ms)`,
    }
  }
  return {
    ready: true,
    reason:
      input.lastCompletedAt === null
        ? `started ${quiet} ms ago; waiting for the first batch`
        : `the last batch finished ${quiet} ms ago`,
  }
}
