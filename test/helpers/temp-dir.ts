import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'

/**
 * A fresh directory under the OS temp dir, removed with everything in it when the test
 * ends. `name` only makes a leftover directory easy to trace back to its test.
 *
 * node:test runs a test's `after` hooks in the order they were added, so a hook added after
 * this call runs after the directory is gone. Whatever still lives in the directory (a
 * server, an open database) is stopped by `release`, which runs just before the removal.
 */
export function tempDir(t: TestContext, name = 'test', release?: (dir: string) => unknown): string {
  const dir = mkdtempSync(join(tmpdir(), `sluice-${name}-`))
  t.after(async () => {
    try {
      await release?.(dir)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
  return dir
}
