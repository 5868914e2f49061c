import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { createLogger, type Logger } from '../../src/core/logger.ts'

/** A fresh directory under the OS temp dir, removed when the test ends. */
export async function makeTempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-checkpoint-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** A logger whose entries the test can inspect. */
export function recordingLogger(): { logger: Logger; entries: Record<string, unknown>[] } {
  const entries: Record<string, unknown>[] = []
  const logger = createLogger({ level: 'debug', sink: (line) => entries.push(JSON.parse(line)) })
  return { logger, entries }
}

/** A clock pinned to 2023-11-14T22:13:20.000Z, so times written to disk are exact. */
export const FIXED_TIME = 1_700_000_000_000
export const fixedClock = (): number => FIXED_TIME
