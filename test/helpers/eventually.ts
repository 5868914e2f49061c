import { setTimeout as sleep } from 'node:timers/promises'

/**
 * Polls `predicate` until it holds. Fails after `timeoutMs` with an error naming `what`, so
 * a condition that never comes fails the test with a message instead of hanging it.
 */
export async function eventually(
  predicate: () => boolean | Promise<boolean>,
  what: string,
  { timeoutMs = 30_000, intervalMs = 20 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(intervalMs)
  }
}
