import assert from 'node:assert/strict'
import { readdir, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { ErrorCodes, type SluiceError } from '../../src/core/errors.ts'
import { silentLogger } from '../../src/core/logger.ts'
import { withDirectoryMutex } from '../../src/sinks/directory-mutex.ts'
import { tempDir } from '../helpers/temp-dir.ts'

const options = { timeoutMs: 300, logger: silentLogger }

test('critical sections of one mutex never overlap, and the mutex is gone afterwards', async (t) => {
  const dir = tempDir(t, 'mutex')
  let inside = 0
  let most = 0
  await Promise.all(
    Array.from({ length: 8 }, () =>
      withDirectoryMutex(dir, 'm', { ...options, timeoutMs: 10_000 }, async () => {
        inside++
        most = Math.max(most, inside)
        await new Promise((resolve) => setTimeout(resolve, 5))
        inside--
      }),
    ),
  )
  assert.equal(most, 1)
  assert.deepEqual(await readdir(dir), [])
})

test('a live holder is waited for, then the error names it and the file to delete', async (t) => {
  const dir = tempDir(t, 'mutex')
  const file = join(dir, 'm')
  for (const holder of [
    { pid: process.pid, hostname: hostname(), token: 'other', since: 0 },
    // Another host: its process cannot be checked, so it is always respected.
    { pid: 1, hostname: 'elsewhere', token: 'other', since: 0 },
  ]) {
    await writeFile(file, JSON.stringify(holder))
    let ran = false
    await assert.rejects(
      withDirectoryMutex(dir, 'm', options, async () => {
        ran = true
      }),
      (error: SluiceError) => {
        assert.equal(error.code, ErrorCodes.SINK)
        assert.equal(
          error.message,
          `'${file}' has been held by process ${holder.pid} on host '${holder.hostname}' (since 1970-01-01T00:00:00.000Z) ` +
            `for longer than 300 ms; if that process no longer runs, delete '${file}'`,
        )
        return true
      },
    )
    assert.equal(ran, false)
    assert.deepEqual(await readdir(dir), ['m'], 'the holder keeps its mutex; no candidate file is left')
  }
})
