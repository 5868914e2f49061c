import assert from 'node:assert/strict'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
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
  await mkdir(target) // renaming a file over a directory fails
  await assert.rejects(writeFileAtomic(target, 'data'), (error) => {
    assert.ok(isSluiceError(error, ErrorCodes.CHECKPOINT))
    assert.match(error.message, new RegExp(`^could not write checkpoint file '${target}': `))
    assert.equal(error.details.file, target)
    return true
  })
  assert.deepEqual(await readdir(dir), ['entry'])
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
