import assert from 'node:assert/strict'
import { mkdir, readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { isTempFileName, replaceFileDurably } from '../../src/core/durable-file.ts'
import { tempDir } from '../helpers/temp-dir.ts'

test('replaceFileDurably replaces the content and leaves no temp file behind', async (t) => {
  const dir = tempDir(t, 'durable-file')
  const file = join(dir, '3.jsonl')
  await replaceFileDurably(file, 'old\n')
  await replaceFileDurably(file, 'new\n')
  assert.equal(await readFile(file, 'utf8'), 'new\n')
  assert.deepEqual(await readdir(dir), ['3.jsonl'])
})

test('a failed replace throws the file-system error and removes its temp file', async (t) => {
  const dir = tempDir(t, 'durable-file')
  // A non-empty directory where the file should go: the rename over it fails.
  const target = join(dir, 'taken')
  await mkdir(join(target, 'inside'), { recursive: true })
  await assert.rejects(replaceFileDurably(target, 'data'), (error: NodeJS.ErrnoException) => {
    assert.ok(error.code === 'EISDIR' || error.code === 'ENOTEMPTY', String(error.code))
    return true
  })
  assert.deepEqual(await readdir(dir), ['taken'])
  assert.ok(isTempFileName('.3.jsonl.123-abcdef.tmp'))
  assert.ok(!isTempFileName('3.jsonl'))
})
