import assert from 'node:assert/strict'
import fsPromises, { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { syncBuiltinESMExports } from 'node:module'
import { join } from 'node:path'
import { mock, test } from 'node:test'
import {
  createFileExclusively,
  isTempFileName,
  readFileIfExists,
  removeTempFiles,
  writeFileAtomic,
} from '../../src/checkpoint/atomic-file.ts'
import { ErrorCodes, isSluiceError } from '../../src/core/errors.ts'
import { tempDir } from '../helpers/temp-dir.ts'

test('writeFileAtomic replaces the content and leaves no temp file behind', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, '7')
  await writeFileAtomic(file, 'old\n')
  await writeFileAtomic(file, 'new\n')
  assert.equal(await readFile(file, 'utf8'), 'new\n')
  assert.deepEqual(await readdir(dir), ['7'])
})

test('a crash after the temp write leaves the old content readable, and the temp file is swept', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, '7')
  await writeFileAtomic(file, 'old\n')
  // What a crash between "write temp" and "rename" leaves: a half-written temp file next to the target.
  await writeFile(join(dir, '.7.4242-abcdef.tmp'), 'new but trunc')
  assert.equal(await readFileIfExists(file), 'old\n')
  assert.deepEqual(await removeTempFiles(dir), ['.7.4242-abcdef.tmp'])
  assert.deepEqual(await readdir(dir), ['7'])
})

test('a failed write names the file, removes its temp file and keeps the old content', async (t) => {
  const dir = tempDir(t)
  const target = join(dir, 'entry')
  await writeFileAtomic(target, 'old\n')
  // The disk fails as the new content is put in place (the rename): a real I/O error is not
  // something a test can provoke on demand, so the file system's rename fails here instead.
  const renames = mock.method(fsPromises, 'rename', async () => {
    throw Object.assign(new Error('EIO: i/o error, rename'), { code: 'EIO' })
  })
  syncBuiltinESMExports()
  t.after(() => {
    renames.mock.restore()
    syncBuiltinESMExports()
  })
  await assert.rejects(writeFileAtomic(target, 'new\n'), (error) => {
    assert.ok(isSluiceError(error, ErrorCodes.CHECKPOINT))
    assert.equal(error.message, `could not write checkpoint file '${target}': EIO: i/o error, rename`)
    assert.equal(error.details.file, target)
    return true
  })
  assert.equal(renames.mock.callCount(), 1)
  assert.equal(await readFile(target, 'utf8'), 'old\n')
  assert.deepEqual(await readdir(dir), ['entry'])
})

test('a write over a directory fails the same way and leaves the directory as it was', async (t) => {
  const dir = tempDir(t)
  const target = join(dir, 'entry')
  await mkdir(join(target, 'inside'), { recursive: true }) // renaming a file over a directory fails
  await assert.rejects(writeFileAtomic(target, 'data'), (error) => {
    assert.ok(isSluiceError(error, ErrorCodes.CHECKPOINT))
    assert.match(error.message, new RegExp(`^could not write checkpoint file '${target}': `))
    assert.equal(error.details.file, target)
    return true
  })
  assert.deepEqual(await readdir(dir), ['entry'])
  assert.deepEqual(await readdir(target), ['inside'])
})

test('readFileIfExists returns undefined only for a missing file', async (t) => {
  const dir = tempDir(t)
  assert.equal(await readFileIfExists(join(dir, 'missing')), undefined)
  await assert.rejects(readFileIfExists(dir), (error) => {
    assert.ok(isSluiceError(error, ErrorCodes.CHECKPOINT))
    assert.match(error.message, new RegExp(`^could not read checkpoint file '${dir}': `))
    return true
  })
})

test('createFileExclusively creates once and never overwrites', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'lock')
  assert.equal(await createFileExclusively(file, 'first\n'), true)
  assert.equal(await createFileExclusively(file, 'second\n'), false)
  assert.equal(await readFile(file, 'utf8'), 'first\n')
  assert.deepEqual(await readdir(dir), ['lock'])
})

test('temp file names can never be entry names', () => {
  assert.equal(isTempFileName('.7.123-abc.tmp'), true)
  assert.equal(isTempFileName('.metadata.123-abc.tmp'), true)
  assert.equal(isTempFileName('7'), false)
  assert.equal(isTempFileName('7.tmp'), false)
  assert.equal(isTempFileName('.hidden'), false)
})
