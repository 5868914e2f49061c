import assert from 'node:assert/strict'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { ErrorCodes, isSluiceError } from '../../../src/core/errors.ts'
import { WriteAheadLog } from '../../../src/source/receiver/write-ahead-log.ts'
import { tempDir } from '../../helpers/temp-dir.ts'

function openLog(dir: string, now: { value: number }, maxSegmentBytes = 1024 * 1024) {
  return WriteAheadLog.open({
    dir,
    what: 'test',
    rollIntervalMs: 1_000,
    maxSegmentBytes,
    now: () => now.value,
  })
}

test('appends are read back by handle, in segments rolled by time and by size', async (t) => {
  const dir = join(tempDir(t), 'log')
  const now = { value: 0 }
  const log = await openLog(dir, now, 4096)
  const a = await log.append(Buffer.from('a'.repeat(100)))
  const b = await log.append(Buffer.from('b'.repeat(100)))
  assert.equal(a.segment, b.segment)
  assert.equal(b.offset, a.offset + 8 + 100)
  now.value = 1_000 // the roll interval has passed
  const c = await log.append(Buffer.from('c'))
  assert.notEqual(c.segment, b.segment)
  const big = await log.append(Buffer.alloc(4100, 1)) // would pass maxSegmentBytes
  assert.notEqual(big.segment, c.segment)
  assert.equal((await log.read(b)).toString(), 'b'.repeat(100))
  assert.equal((await log.read(c)).toString(), 'c')
  assert.deepEqual(await log.segments(), [
    'segment-000000000001.wal',
    'segment-000000000002.wal',
    'segment-000000000003.wal',
  ])
  assert.equal(log.bytesWritten, 3 * 8 + (8 + 100) * 2 + 8 + 1 + 8 + 4100)
  await log.close()
})

test('after a reopen appends go to a new segment, and old ones scan back', async (t) => {
  const dir = join(tempDir(t), 'log')
  const now = { value: 0 }
  const first = await openLog(dir, now)
  await first.append(Buffer.from('one'))
  await first.close()
  const second = await openLog(dir, now)
  const handle = await second.append(Buffer.from('two'))
  assert.equal(handle.segment, 'segment-000000000002.wal')
  const scan = await second.scan('segment-000000000001.wal')
  assert.deepEqual(
    scan.frames.map((f) => f.payload.toString()),
    ['one'],
  )
  await second.close()
})

test('a damaged frame read by handle fails naming the file and byte offset', async (t) => {
  const dir = join(tempDir(t), 'log')
  const log = await openLog(dir, { value: 0 })
  const handle = await log.append(Buffer.from('payload'))
  await log.close()
  const path = join(dir, handle.segment)
  const bytes = readFileSync(path)
  bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff
  writeFileSync(path, bytes)
  const reader = await openLog(dir, { value: 0 })
  await assert.rejects(reader.read(handle), (error: unknown) => {
    assert.ok(isSluiceError(error, ErrorCodes.CHECKPOINT))
    assert.equal(
      error.message,
      `write-ahead log segment '${path}' is damaged at byte 8: its CRC-32 does not match (damaged on disk)`,
    )
    assert.deepEqual(error.details, { file: path, offset: 8 })
    return true
  })
  await assert.rejects(
    reader.read({ ...handle, segment: 'segment-000000000009.wal' }),
    /segment holding this frame is missing/,
  )
  await reader.close()
})

test('delete removes old segments but never the one being appended to; truncate cuts a torn tail', async (t) => {
  const dir = join(tempDir(t), 'log')
  const now = { value: 0 }
  const log = await openLog(dir, now)
  const a = await log.append(Buffer.from('a'))
  now.value = 5_000
  const b = await log.append(Buffer.from('b'))
  assert.deepEqual(await log.delete([a.segment, b.segment]), [a.segment])
  assert.deepEqual(readdirSync(dir), [b.segment])
  await log.close()
  const path = join(dir, b.segment)
  writeFileSync(path, Buffer.concat([readFileSync(path), Buffer.from([9, 9, 9])]))
  const reopened = await openLog(dir, now)
  const scan = await reopened.scan(b.segment)
  assert.equal(scan.damage?.kind, 'torn-tail')
  await reopened.truncate(b.segment, scan.damage!.offset)
  assert.equal((await reopened.scan(b.segment)).damage, undefined)
  await reopened.close()
})

test('an append after close is refused', async (t) => {
  const log = await openLog(join(tempDir(t), 'log'), { value: 0 })
  await log.close()
  await assert.rejects(log.append(Buffer.from('late')), (error: unknown) =>
    isSluiceError(error, ErrorCodes.CLOSED),
  )
})
