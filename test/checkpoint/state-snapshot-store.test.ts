import assert from 'node:assert/strict'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { CheckpointStore } from '../../src/checkpoint/checkpoint-store.ts'
import type { StateSnapshotHeader } from '../../src/checkpoint/state-snapshot-file.ts'
import { StateSnapshotStore } from '../../src/checkpoint/state-snapshot-store.ts'
import { ErrorCodes, isSluiceError, SluiceError } from '../../src/core/errors.ts'
import { silentLogger } from '../../src/core/logger.ts'
import { recordingLogger } from '../helpers/recording-logger.ts'
import { tempDir } from '../helpers/temp-dir.ts'
import { fixedClock } from './fixed-clock.ts'

const header: StateSnapshotHeader = {
  stream: 'totals',
  batchId: 9,
  batchTime: 1_700_000_009_000,
  keyCodec: 'json',
  stateCodec: 'json',
}

async function openSnapshots(t: import('node:test').TestContext) {
  const dir = tempDir(t)
  return { dir, snapshots: await StateSnapshotStore.open(dir, 'totals', silentLogger) }
}

function assertUnusable(error: unknown, problem: RegExp): true {
  assert.ok(isSluiceError(error, ErrorCodes.STATE), `a STATE error, got ${String(error)}`)
  assert.match(error.message, /^state snapshot '.*\/state\/totals\/9' /)
  assert.match(error.message, problem)
  return true
}

test('a snapshot is JSON lines: one [key, state] per line, then a sealed trailer; it reads back equal', async (t) => {
  const { dir, snapshots } = await openSnapshots(t)
  const entries = [
    ['a', 1],
    ['b', { total: 2, items: ['x', 'y'] }],
    [{ user: 7 }, null],
  ]
  await snapshots.write(header, entries)
  const file = join(dir, 'state', 'totals', '9')
  const lines = (await readFile(file, 'utf8')).split('\n')
  assert.deepEqual(lines.slice(0, 3), ['["a",1]', '["b",{"total":2,"items":["x","y"]}]', '[{"user":7},null]'])
  assert.equal(lines[4], '', 'the file ends with a newline')
  const trailer = JSON.parse(lines[3]!)
  assert.deepEqual(Object.keys(trailer), [
    'version',
    'format',
    'stream',
    'batchId',
    'batchTime',
    'entries',
    'keyCodec',
    'stateCodec',
    'entriesSha256',
    'checksum',
  ])
  assert.equal(trailer.version, 1)
  assert.equal(trailer.format, 'sluice-state')
  assert.equal(trailer.entries, 3)
  assert.match(trailer.checksum, /^sha256:[0-9a-f]{64}$/)
  const read = await snapshots.read(9)
  assert.deepEqual(read, { ...header, entries })
  assert.deepEqual(await snapshots.batchIds(), [9])
})

test('an empty state and entries with seen batch and time round-trip', async (t) => {
  const { snapshots } = await openSnapshots(t)
  await snapshots.write({ ...header, batchId: 0 }, [])
  assert.deepEqual((await snapshots.read(0)).entries, [])
  await snapshots.write(header, [['k', 5, 3, 1_700_000_003_000]])
  assert.deepEqual((await snapshots.read(9)).entries, [['k', 5, 3, 1_700_000_003_000]])
})

test('100k entries are written in pieces and read back in order', async (t) => {
  const { snapshots } = await openSnapshots(t)
  const entries = Array.from({ length: 100_000 }, (_, i) => [`key-${i}`, { n: i, text: 'é'.repeat(i % 7) }])
  await snapshots.write(header, entries)
  const read = await snapshots.read(9)
  assert.equal(read.entries.length, 100_000)
  assert.deepEqual(read.entries[99_999], entries[99_999])
  assert.deepEqual(read.entries, entries)
})

test('a snapshot cut short anywhere is detected', async (t) => {
  const { dir, snapshots } = await openSnapshots(t)
  await snapshots.write(
    header,
    Array.from({ length: 12 }, (_, i) => [`k${i}`, i]),
  )
  const file = join(dir, 'state', 'totals', '9')
  const full = await readFile(file)
  // Every length short of the whole file: a crash can cut a write anywhere.
  for (let length = 0; length < full.length; length++) {
    await writeFile(file, full.subarray(0, length))
    await assert.rejects(
      snapshots.read(9),
      (error) => assertUnusable(error, /is truncated|is damaged|integrity check|not valid JSON/),
      `cut to ${length} of ${full.length} bytes`,
    )
  }
  await writeFile(file, full)
  await snapshots.read(9)
})

test('an edited entry, an edited trailer and a dropped line fail the integrity check', async (t) => {
  const { dir, snapshots } = await openSnapshots(t)
  await snapshots.write(header, [
    ['a', 1],
    ['b', 2],
  ])
  const file = join(dir, 'state', 'totals', '9')
  const original = await readFile(file, 'utf8')
  await writeFile(file, original.replace('["b",2]', '["b",3]'))
  await assert.rejects(snapshots.read(9), (error) =>
    assertUnusable(error, /failed its integrity check \(the entries/),
  )
  await writeFile(file, original.replace('"entries":2', '"entries":1'))
  await assert.rejects(snapshots.read(9), (error) =>
    assertUnusable(error, /failed its integrity check \(sha256 mismatch in its trailer/),
  )
  await writeFile(file, original.replace('["a",1]\n', ''))
  await assert.rejects(snapshots.read(9), (error) => assertUnusable(error, /failed its integrity check/))
})

test('a snapshot of another format version, batch or stream is not used', async (t) => {
  const { dir, snapshots } = await openSnapshots(t)
  const file = join(dir, 'state', 'totals', '9')
  await snapshots.write(header, [['a', 1]])
  const text = await readFile(file, 'utf8')
  await writeFile(file, text.replace('"version":1', '"version":2'))
  await assert.rejects(snapshots.read(9), (error) =>
    assertUnusable(error, /has format version 2, but this sluice reads version 1$/),
  )
  await snapshots.write({ ...header, batchId: 19 }, [['a', 1]])
  await writeFile(file, await readFile(join(dir, 'state', 'totals', '19'), 'utf8'))
  await assert.rejects(snapshots.read(9), (error) =>
    assertUnusable(error, /records batch 19 but is named 9$/),
  )
  const other = await StateSnapshotStore.open(dir, 'other', silentLogger)
  await other.write({ ...header, stream: 'other' }, [])
  await writeFile(file, await readFile(join(dir, 'state', 'other', '9'), 'utf8'))
  await assert.rejects(snapshots.read(9), (error) =>
    assertUnusable(error, /belongs to stream 'other', not 'totals'$/),
  )
})

test('an entry that fails to encode leaves no file behind and keeps the previous snapshot', async (t) => {
  const { dir, snapshots } = await openSnapshots(t)
  await snapshots.write(header, [['a', 1]])
  function* failing() {
    yield ['a', 2]
    throw new SluiceError(ErrorCodes.STATE, 'cannot encode')
  }
  await assert.rejects(snapshots.write(header, failing()), /cannot encode/)
  assert.deepEqual(await readdir(join(dir, 'state', 'totals')), ['9'])
  assert.deepEqual((await snapshots.read(9)).entries, [['a', 1]])
})

test('opening sweeps temp files of interrupted writes; stray names are not snapshots', async (t) => {
  const dir = tempDir(t)
  const first = await StateSnapshotStore.open(dir, 'totals', silentLogger)
  await first.write(header, [['a', 1]])
  await writeFile(join(first.dir, '.19.1234-abcdef.tmp'), '["half')
  await writeFile(join(first.dir, 'notes.txt'), 'hello')
  const { logger, entries } = recordingLogger()
  const reopened = await StateSnapshotStore.open(dir, 'totals', logger)
  assert.deepEqual((await readdir(reopened.dir)).sort(), ['9', 'notes.txt'])
  assert.deepEqual(await reopened.batchIds(), [9])
  assert.equal(entries[0]?.msg, 'removed temp files of interrupted state snapshot writes')
})

test('stream names must be usable as directory names', async (t) => {
  const dir = tempDir(t)
  for (const name of ['', '.hidden', 'a/b', '..', 'x'.repeat(101)]) {
    await assert.rejects(StateSnapshotStore.open(dir, name, silentLogger), /cannot name a directory/)
  }
})

test('CheckpointStore.stateSnapshots opens <dir>/state/<stream>; prune() leaves snapshots alone', async (t) => {
  const dir = tempDir(t)
  const store = await CheckpointStore.open(dir, {
    appName: 'app',
    logger: silentLogger,
    clock: fixedClock,
    retain: 1,
  })
  t.after(() => store.close())
  const snapshots = await store.stateSnapshots('totals')
  assert.equal(snapshots.dir, join(dir, 'state', 'totals'))
  await snapshots.write({ ...header, batchId: 0 }, [])
  for (let id = 0; id < 3; id++) {
    await store.writePlanned({ batchId: id, batchTime: id, inputs: {} })
    await store.writeCommitted(id)
  }
  await store.prune()
  assert.deepEqual(await snapshots.batchIds(), [0])
  await store.close()
  await assert.rejects(store.stateSnapshots('totals'), (error) => isSluiceError(error, ErrorCodes.CLOSED))
})
