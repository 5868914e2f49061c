import assert from 'node:assert/strict'
import { cp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { CheckpointStore, type CheckpointStoreOptions } from '../../src/checkpoint/checkpoint-store.ts'
import type { PlannedBatch } from '../../src/checkpoint/planned-batch.ts'
import { ErrorCodes, isSluiceError } from '../../src/core/errors.ts'
import { silentLogger } from '../../src/core/logger.ts'
import { recordingLogger } from '../helpers/recording-logger.ts'
import { tempDir } from '../helpers/temp-dir.ts'
import { FIXED_TIME, fixedClock } from './fixed-clock.ts'

const options: CheckpointStoreOptions = { appName: 'wordcount', logger: silentLogger, clock: fixedClock }

/** Batch `id` reads 100 records of words-0, continuing where the previous batch ended. */
function plan(id: number): PlannedBatch {
  return {
    batchId: id,
    batchTime: FIXED_TIME + id * 1000,
    inputs: {
      words: {
        kind: 'kafka-direct',
        plan: {
          ranges: [
            { topic: 'words', partition: 0, fromOffset: `${id * 100}`, untilOffset: `${id * 100 + 100}` },
          ],
        },
      },
    },
  }
}

async function runBatches(store: CheckpointStore, count: number): Promise<void> {
  for (let id = 0; id < count; id++) {
    await store.writePlanned(plan(id))
    await store.writeCommitted(id)
  }
}

async function openStore(
  t: import('node:test').TestContext,
  dir: string,
  extra: Partial<CheckpointStoreOptions> = {},
) {
  const store = await CheckpointStore.open(dir, { ...options, ...extra })
  t.after(() => store.close())
  return store
}

test('a new directory gets its metadata, both logs and a lock, and recovers to batch 0', async (t) => {
  const dir = join(tempDir(t), 'ckpt')
  const store = await openStore(t, dir)
  assert.deepEqual(await store.recover(), { nextBatchId: 0 })
  assert.deepEqual((await readdir(dir)).sort(), ['commits', 'lock', 'metadata', 'offsets'])
  const metadata = JSON.parse(await readFile(join(dir, 'metadata'), 'utf8'))
  assert.deepEqual(Object.keys(metadata), ['version', 'appName', 'createdAt', 'checksum'])
  assert.equal(metadata.version, 2)
  assert.equal(metadata.appName, 'wordcount')
  assert.equal(metadata.createdAt, FIXED_TIME)
  assert.equal(store.appName, 'wordcount')
  assert.equal(store.createdAt, FIXED_TIME)
  assert.equal(store.dir, dir)
  assert.equal(store.retain, 100)
})

test('entries are written as offsets/<id> and commits/<id>, in the documented format', async (t) => {
  const dir = tempDir(t)
  const store = await openStore(t, dir)
  await store.writePlanned({
    ...plan(0),
    inputs: { ...plan(0).inputs, idle: { kind: 'queue', state: { next: 0 } } },
  })
  await store.writeCommitted(0, { rows: 42 })
  const entry = JSON.parse(await readFile(join(dir, 'offsets', '0'), 'utf8'))
  const { checksum, ...payload } = entry
  assert.deepEqual(payload, {
    version: 2,
    batchId: 0,
    batchTime: FIXED_TIME,
    inputs: {
      words: {
        kind: 'kafka-direct',
        plan: { ranges: [{ topic: 'words', partition: 0, fromOffset: '0', untilOffset: '100' }] },
      },
      idle: { kind: 'queue', state: { next: 0 } },
    },
  })
  assert.match(checksum, /^sha256:[0-9a-f]{64}$/)
  const commit = JSON.parse(await readFile(join(dir, 'commits', '0'), 'utf8'))
  delete commit.checksum
  assert.deepEqual(commit, { version: 2, batchId: 0, committedAt: FIXED_TIME, info: { rows: 42 } })
  assert.deepEqual(await store.readCommitted(0), { batchId: 0, committedAt: FIXED_TIME, info: { rows: 42 } })
  assert.equal(await store.readCommitted(1), undefined)
})

test('after a clean stop, recovery continues after the last committed batch', async (t) => {
  const dir = tempDir(t)
  const first = await CheckpointStore.open(dir, options)
  await runBatches(first, 3)
  await first.close()

  const store = await openStore(t, dir)
  assert.deepEqual(await store.recover(), { lastCommittedBatchId: 2, latestEntry: plan(2), nextBatchId: 3 })
  await store.writePlanned(plan(3))
})

test('a planned but uncommitted batch is handed back for a re-run with identical ranges', async (t) => {
  const dir = tempDir(t)
  const first = await CheckpointStore.open(dir, options)
  await runBatches(first, 2)
  const inFlight: PlannedBatch = {
    batchId: 2,
    batchTime: FIXED_TIME + 2000,
    inputs: {
      words: {
        kind: 'kafka-direct',
        plan: {
          ranges: [
            { topic: 'words', partition: 0, fromOffset: '200', untilOffset: '250' },
            { topic: 'words', partition: 1, fromOffset: '9007199254740993', untilOffset: '9007199254741093' },
          ],
        },
        state: { latestRate: 900, latestError: 1000 },
      },
    },
  }
  await first.writePlanned(inFlight)
  await first.close() // the process dies here: tasks may have run, outputs did not all succeed

  const store = await openStore(t, dir)
  const view = await store.recover()
  assert.deepEqual(view, {
    lastCommittedBatchId: 1,
    pendingBatch: inFlight,
    latestEntry: inFlight,
    nextBatchId: 3,
  })
  // The re-run commits the pending batch; planning then continues from its until-offsets.
  await store.writeCommitted(2)
  await store.writePlanned(plan(3))
  assert.deepEqual(await store.recover(), {
    lastCommittedBatchId: 2,
    latestEntry: plan(3),
    pendingBatch: plan(3),
    nextBatchId: 4,
  })
})

test('a very first batch that never committed is pending, with nothing committed', async (t) => {
  const dir = tempDir(t)
  const first = await CheckpointStore.open(dir, options)
  await first.writePlanned(plan(0))
  await first.close()
  const store = await openStore(t, dir)
  assert.deepEqual(await store.recover(), { pendingBatch: plan(0), latestEntry: plan(0), nextBatchId: 1 })
})

test('the store enforces plan N, commit N, plan N+1', async (t) => {
  const store = await openStore(t, tempDir(t))
  const misuse = (message: string) => (error: unknown) => {
    assert.ok(isSluiceError(error, ErrorCodes.INVALID_ARGUMENT))
    assert.equal(error.message, message)
    return true
  }
  await assert.rejects(store.writeCommitted(0), misuse('cannot commit batch 0: it was never planned'))
  await assert.rejects(store.writePlanned(plan(1)), misuse('cannot plan batch 1: the next batch id is 0'))
  await store.writePlanned(plan(0))
  await assert.rejects(
    store.writePlanned(plan(0)),
    misuse('cannot plan batch 0 again: it is already planned; re-run it with its recorded plans'),
  )
  await assert.rejects(
    store.writePlanned(plan(1)),
    misuse('cannot plan batch 1: batch 0 is planned but not committed, and batches run one at a time'),
  )
  await store.writeCommitted(0)
  await assert.rejects(store.writeCommitted(0), misuse('cannot commit batch 0: it is already committed'))
  await assert.rejects(store.writeCommitted(-1), misuse('batchId must be a non-negative integer, got -1'))
  await assert.rejects(store.writePlanned(plan(0)), misuse('cannot plan batch 0: the next batch id is 1'))
})

test('a directory of another application is refused, saying what to do', async (t) => {
  const dir = tempDir(t)
  await (await CheckpointStore.open(dir, options)).close()
  await assert.rejects(CheckpointStore.open(dir, { ...options, appName: 'billing' }), (error) => {
    assert.ok(isSluiceError(error, ErrorCodes.CHECKPOINT))
    assert.equal(
      error.message,
      `checkpoint directory '${dir}' belongs to application 'wordcount', not 'billing'; ` +
        `use another checkpoint directory, or delete '${dir}' to start over`,
    )
    assert.deepEqual(error.details, { dir, found: 'wordcount', expected: 'billing' })
    return true
  })
  // The refused opener released the lock it took while looking.
  await (await CheckpointStore.open(dir, options)).close()
})

test('an unknown format version is refused, in the metadata and in an entry', async (t) => {
  const dir = tempDir(t)
  const first = await CheckpointStore.open(dir, options)
  await first.writePlanned(plan(0))
  await first.close()

  const entryFile = join(dir, 'offsets', '0')
  const entry = await readFile(entryFile, 'utf8')
  await writeFile(entryFile, entry.replace('"version": 2', '"version": 0'))
  const store = await openStore(t, dir)
  await assert.rejects(store.recover(), {
    code: ErrorCodes.CHECKPOINT,
    message:
      `checkpoint file '${entryFile}' has format version 0, but this sluice reads versions 1 and 2; ` +
      `use another checkpoint directory, or delete '${dir}' to start over`,
  })
  await store.close()

  const metadataFile = join(dir, 'metadata')
  const metadata = await readFile(metadataFile, 'utf8')
  await writeFile(metadataFile, metadata.replace('"version": 2', '"version": 3'))
  await assert.rejects(CheckpointStore.open(dir, options), {
    code: ErrorCodes.CHECKPOINT,
    message:
      `checkpoint file '${metadataFile}' has format version 3, but this sluice reads versions 1 and 2 ` +
      '(it was written by a newer sluice: upgrade this one); ' +
      `use another checkpoint directory, or delete '${dir}' to start over`,
  })
})

test('an edited or truncated entry is caught by its checksum, naming the file', async (t) => {
  const dir = tempDir(t)
  const store = await openStore(t, dir)
  await runBatches(store, 2)
  const file = join(dir, 'offsets', '1')
  const original = await readFile(file, 'utf8')

  await writeFile(file, original.replace('"untilOffset": "200"', '"untilOffset": "900"'))
  await assert.rejects(store.recover(), {
    code: ErrorCodes.CHECKPOINT,
    message:
      `checkpoint file '${file}' failed its integrity check (sha256 mismatch: edited or damaged); ` +
      `restore it from a backup, or delete '${dir}' to start over`,
  })

  await writeFile(file, original.slice(0, original.length / 2))
  await assert.rejects(store.readPlanned(1), {
    code: ErrorCodes.CHECKPOINT,
    message:
      `checkpoint file '${file}' is not valid JSON (truncated or damaged); ` +
      `restore it from a backup, or delete '${dir}' to start over`,
  })

  const commitFile = join(dir, 'commits', '0')
  const commit = JSON.parse(await readFile(commitFile, 'utf8'))
  delete commit.checksum
  await writeFile(commitFile, JSON.stringify(commit))
  await assert.rejects(store.readCommitted(0), {
    code: ErrorCodes.CHECKPOINT,
    message: `checkpoint file '${commitFile}' has no checksum; restore it from a backup, or delete '${dir}' to start over`,
  })
})

test('temp files left by interrupted writes are never read as entries, and are swept on open', async (t) => {
  const dir = tempDir(t)
  const first = await CheckpointStore.open(dir, options)
  await runBatches(first, 1)
  await first.close()
  // A crash while writing batch 1's plan and a new metadata file: complete-looking temp files.
  const text = await readFile(join(dir, 'offsets', '0'), 'utf8')
  await writeFile(join(dir, 'offsets', '.1.31337-0badc0ffee.tmp'), text)
  await writeFile(join(dir, '.metadata.31337-0badc0ffee.tmp'), 'garbage')

  const { logger, entries } = recordingLogger()
  const store = await openStore(t, dir, { logger })
  assert.deepEqual(await store.recover(), { lastCommittedBatchId: 0, latestEntry: plan(0), nextBatchId: 1 })
  assert.deepEqual(await readdir(join(dir, 'offsets')), ['0'])
  assert.deepEqual((await readdir(dir)).sort(), ['commits', 'lock', 'metadata', 'offsets'])
  const swept = entries.find((entry) => entry.msg === 'removed temp files of interrupted checkpoint writes')
  assert.deepEqual(swept?.files, ['.metadata.31337-0badc0ffee.tmp', 'offsets/.1.31337-0badc0ffee.tmp'])
  assert.equal(swept?.level, 'info')
})

test('readPlannedBatches returns a run of entries in order and refuses a gap', async (t) => {
  const dir = tempDir(t)
  const store = await openStore(t, dir)
  await runBatches(store, 4)
  assert.deepEqual(await store.readPlannedBatches(1, 3), [plan(1), plan(2), plan(3)])
  assert.deepEqual(await store.readPlannedBatches(2, 2), [plan(2)])
  assert.equal(await store.readPlanned(9), undefined)
  await assert.rejects(store.readPlannedBatches(2, 5), {
    code: ErrorCodes.CHECKPOINT,
    message: `offset log has no entry for batch 4 ('${join(dir, 'offsets', '4')}'): it was pruned or never planned`,
  })
  await assert.rejects(store.readPlannedBatches(3, 1), {
    code: ErrorCodes.INVALID_ARGUMENT,
    message: 'toBatchId (1) must not be below fromBatchId (3)',
  })
})

test('prune keeps the newest `retain` batches of both logs', async (t) => {
  const dir = tempDir(t)
  const store = await openStore(t, dir, { retain: 3 })
  await runBatches(store, 10)
  assert.deepEqual(await store.prune(), { planned: [0, 1, 2, 3, 4, 5, 6], committed: [0, 1, 2, 3, 4, 5, 6] })
  assert.deepEqual((await readdir(join(dir, 'offsets'))).sort(), ['7', '8', '9'])
  assert.deepEqual((await readdir(join(dir, 'commits'))).sort(), ['7', '8', '9'])
  assert.deepEqual(await store.prune(), { planned: [], committed: [] })
  assert.deepEqual(await store.recover(), { lastCommittedBatchId: 9, latestEntry: plan(9), nextBatchId: 10 })
})

test('prune never removes batches from keepFromBatchId on', async (t) => {
  const dir = tempDir(t)
  const store = await openStore(t, dir, { retain: 2 })
  await runBatches(store, 8)
  // A window still needs batches 3..7: only 0..2 may go, although retain alone would keep just 6 and 7.
  assert.deepEqual(await store.prune({ keepFromBatchId: 3 }), { planned: [0, 1, 2], committed: [0, 1, 2] })
  assert.deepEqual(await store.readPlannedBatches(3, 7), [3, 4, 5, 6, 7].map(plan))
  // A minimum newer than what retain keeps changes nothing.
  assert.deepEqual(await store.prune({ keepFromBatchId: 7 }), { planned: [3, 4, 5], committed: [3, 4, 5] })
  await assert.rejects(store.prune({ keepFromBatchId: -1 }), {
    code: ErrorCodes.INVALID_ARGUMENT,
    message: 'keepFromBatchId must be a non-negative integer, got -1',
  })
})

test('with retain 1 and a pending batch, the newest commit is kept', async (t) => {
  const dir = tempDir(t)
  const first = await CheckpointStore.open(dir, { ...options, retain: 1 })
  await runBatches(first, 3)
  await first.writePlanned(plan(3))
  assert.deepEqual(await first.prune(), { planned: [0, 1, 2], committed: [0, 1] })
  await first.close()
  const store = await openStore(t, dir)
  assert.deepEqual(await store.recover(), {
    lastCommittedBatchId: 2,
    pendingBatch: plan(3),
    latestEntry: plan(3),
    nextBatchId: 4,
  })
})

test('a directory whose logs disagree is refused on open', async (t) => {
  const dir = tempDir(t)
  const first = await CheckpointStore.open(dir, options)
  await runBatches(first, 2)
  await first.close()
  await rm(join(dir, 'offsets', '1'))
  await assert.rejects(CheckpointStore.open(dir, options), {
    code: ErrorCodes.CHECKPOINT,
    message:
      `checkpoint directory '${dir}' is inconsistent: batch 1 is committed but the offset log ends at batch 0; ` +
      'restore it from a backup, or delete it to start over',
  })
  await rm(join(dir, 'metadata'))
  await assert.rejects(CheckpointStore.open(dir, options), {
    code: ErrorCodes.CHECKPOINT,
    message:
      `checkpoint directory '${dir}' is inconsistent: '${join(dir, 'offsets')}' has entries but ` +
      `'${join(dir, 'metadata')}' is missing; restore it from a backup, or delete it to start over`,
  })
})

test('a closed store refuses further use', async (t) => {
  const dir = tempDir(t)
  const store = await CheckpointStore.open(dir, options)
  await store.close()
  await store.close()
  await assert.rejects(store.recover(), {
    code: ErrorCodes.CLOSED,
    message: `checkpoint store for '${dir}' is closed`,
  })
  await assert.rejects(store.writePlanned(plan(0)), { code: ErrorCodes.CLOSED })
})

test('invalid options fail before the directory is touched', async (t) => {
  const dir = join(tempDir(t), 'never-created')
  await assert.rejects(CheckpointStore.open(dir, { ...options, appName: ' ' }), {
    code: ErrorCodes.INVALID_OPTION,
    message: `CheckpointStore: option 'appName' must be a non-empty string, got a string (" ")`,
  })
  await assert.rejects(CheckpointStore.open(dir, { ...options, retain: 0 }), {
    code: ErrorCodes.INVALID_OPTION,
    message: "CheckpointStore: option 'retain' must be at least 1 (batches to keep), got 0",
  })
  await assert.rejects(readdir(dir), { code: 'ENOENT' })
})

test('a format-1 directory is upgraded as it is opened: metadata rewritten, old entries read as format 2', async (t) => {
  const dir = tempDir(t)
  await cp(join(import.meta.dirname, 'fixtures', 'v1-direct-stream', 'checkpoint'), dir, { recursive: true })
  const { logger, entries } = recordingLogger()
  const store = await openStore(t, dir, { appName: 'v1-fixture', logger })
  const metadata = JSON.parse(await readFile(join(dir, 'metadata'), 'utf8'))
  assert.equal(metadata.version, 2)
  assert.equal(metadata.appName, 'v1-fixture')
  assert.ok(entries.some((e) => e.msg === 'upgraded the checkpoint format' && e.from === 1 && e.to === 2))
  const view = await store.recover()
  assert.equal(view.lastCommittedBatchId, 3)
  assert.equal(view.nextBatchId, 5)
  assert.deepEqual(view.pendingBatch, {
    batchId: 4,
    batchTime: 1796053122680,
    inputs: {
      'direct-kafka-0': {
        kind: 'kafka-direct',
        plan: {
          ranges: [
            { topic: 'sluice-v1-fixture', partition: 0, fromOffset: '16', untilOffset: '21' },
            { topic: 'sluice-v1-fixture', partition: 1, fromOffset: '16', untilOffset: '21' },
          ],
        },
        state: {
          latestRate: 574.1176470588235,
          estimator: {
            firstRun: false,
            latestTime: 1796053122609,
            latestRate: 574.1176470588235,
            latestError: 1041.764705882353,
          },
        },
      },
    },
    upgradedFrom: 1,
  })
  assert.equal((await store.readCommitted(3))?.batchId, 3, 'format-1 commits read back')
  await store.writeCommitted(4)
  await store.writePlanned({ batchId: 5, batchTime: 1796053122780, inputs: {} })
  assert.equal(JSON.parse(await readFile(join(dir, 'offsets', '5'), 'utf8')).version, 2)
  assert.equal(
    JSON.parse(await readFile(join(dir, 'offsets', '4'), 'utf8')).version,
    1,
    'old entries stay as they are',
  )
})
