import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { ErrorCodes, type SluiceError } from '../../src/core/errors.ts'
import { silentLogger } from '../../src/core/logger.ts'
import type { SinkBatch } from '../../src/sinks/batch.ts'
import { createFileSink, type FileSinkWriter } from '../../src/sinks/file-sink.ts'
import { recordingLogger } from '../helpers/recording-logger.ts'
import { tempDir } from '../helpers/temp-dir.ts'

const b7: SinkBatch = {
  id: 7,
  time: 1_700_000_000_000,
  replay: false,
  offsetRanges: [{ topic: 'words', partition: 0, fromOffset: 10n, untilOffset: 13n }],
}

/** A deterministic job: one line per offset of the batch. */
async function job(writer: FileSinkWriter): Promise<void> {
  for (const r of writer.batch.offsetRanges) {
    for (let offset = r.fromOffset; offset < r.untilOffset; offset++) {
      writer.write({ topic: r.topic, partition: r.partition, offset, word: `w${offset}` })
    }
  }
}

const expected =
  '{"topic":"words","partition":0,"offset":"10","word":"w10"}\n' +
  '{"topic":"words","partition":0,"offset":"11","word":"w11"}\n' +
  '{"topic":"words","partition":0,"offset":"12","word":"w12"}\n'

test('a batch is written whole as <dir>/<batchId>.jsonl, and a re-run replaces it with identical content', async (t) => {
  const dir = join(tempDir(t, 'file-sink'), 'out', 'nested')
  const sink = createFileSink({ app: 'wc', dir, logger: silentLogger })
  await sink.start()
  assert.equal(await sink.writeBatch(b7, job), 'applied')
  assert.equal(await readFile(join(dir, '7.jsonl'), 'utf8'), expected)

  assert.equal(await sink.writeBatch({ ...b7, replay: true }, job), 'already-applied')
  assert.equal(await readFile(join(dir, '7.jsonl'), 'utf8'), expected)
  assert.deepEqual(
    await readdir(dir),
    ['.sluice-owner.json', '7.jsonl'],
    'no temp file or mutex is left behind',
  )
})

test('a write function that throws leaves the previous file untouched', async (t) => {
  const dir = tempDir(t, 'file-sink')
  const sink = createFileSink({ app: 'wc', dir, logger: silentLogger })
  await sink.start()
  await sink.writeBatch(b7, job)
  const cause = new Error('worker died')
  await assert.rejects(
    sink.writeBatch({ ...b7, replay: true }, async (writer) => {
      writer.write({ partial: true })
      throw cause
    }),
    (error: SluiceError) =>
      error.code === ErrorCodes.SINK &&
      error.cause === cause &&
      error.message ===
        "batch 7 of app 'wc' was not written: the write function failed: worker died; nothing of the batch was applied",
  )
  assert.equal(await readFile(join(dir, '7.jsonl'), 'utf8'), expected)
  assert.deepEqual(await readdir(dir), ['.sluice-owner.json', '7.jsonl'])
})

test('a re-run with different output replaces the file and warns that the job is not deterministic', async (t) => {
  const dir = tempDir(t, 'file-sink')
  const { logger, messages } = recordingLogger('warn')
  const sink = createFileSink({ app: 'wc', dir, logger })
  await sink.start()
  await writeFile(join(dir, '7.jsonl'), 'stale\n')
  assert.equal(await sink.writeBatch(b7, job), 'applied')
  assert.equal(await readFile(join(dir, '7.jsonl'), 'utf8'), expected)
  assert.deepEqual(messages(), [
    'a re-run of a batch produced different output; the job is not deterministic',
  ])
})

test('an empty batch writes an empty file; values JSON cannot hold fail the batch', async (t) => {
  const dir = tempDir(t, 'file-sink')
  const sink = createFileSink({ app: 'wc', dir, logger: silentLogger })
  await sink.start()
  assert.equal(await sink.writeBatch({ ...b7, id: 8, offsetRanges: [] }, async () => {}), 'applied')
  assert.equal(await readFile(join(dir, '8.jsonl'), 'utf8'), '')
  await assert.rejects(
    sink.writeBatch({ ...b7, id: 9 }, async (writer) => writer.write(undefined)),
    (error: SluiceError) =>
      error.code === ErrorCodes.SINK &&
      (error.cause as SluiceError).message ===
        'value 0 of batch 9 cannot be written as JSON (it is undefined)',
  )
  assert.deepEqual(await readdir(dir), ['.sluice-owner.json', '8.jsonl'], 'the failed batch left no file')
})

test('options are checked at construction and the directory at start', async (t) => {
  assert.throws(() => createFileSink({ app: 'wc', dir: '' }), {
    code: ErrorCodes.INVALID_OPTION,
    message: `createFileSink: option 'dir' must be a directory path, got a string ("")`,
  })
  const file = join(tempDir(t, 'file-sink'), 'a-file')
  await writeFile(file, '')
  const sink = createFileSink({ app: 'wc', dir: join(file, 'sub'), logger: silentLogger })
  await assert.rejects(sink.start(), (error: SluiceError) => {
    assert.equal(error.code, ErrorCodes.SINK)
    assert.ok(
      error.message.startsWith(`the file sink of app 'wc' cannot use its directory '${join(file, 'sub')}': `),
      error.message,
    )
    return true
  })
  await assert.rejects(sink.writeBatch(b7, job), {
    code: ErrorCodes.SINK,
    message: "the file sink of app 'wc' is not started; call start() first",
  })
})

test('a second instance takes the directory over; the first is FENCED before it replaces a file, for good', async (t) => {
  const dir = tempDir(t, 'file-sink')
  const first = createFileSink({ app: 'wc', dir, logger: silentLogger })
  await first.start()
  assert.equal(await first.writeBatch(b7, job), 'applied')
  const owner = JSON.parse(await readFile(join(dir, '.sluice-owner.json'), 'utf8'))
  assert.deepEqual(
    { app: owner.app, epoch: owner.epoch, pid: owner.pid, hostname: owner.hostname },
    { app: 'wc', epoch: 1, pid: process.pid, hostname: hostname() },
  )

  const second = createFileSink({ app: 'wc', dir, logger: silentLogger })
  await second.start()
  const taken = JSON.parse(await readFile(join(dir, '.sluice-owner.json'), 'utf8'))
  assert.equal(taken.epoch, 2)
  assert.notEqual(taken.token, owner.token)

  const late: SinkBatch = {
    ...b7,
    id: 8,
    offsetRanges: [{ topic: 'words', partition: 0, fromOffset: 13n, untilOffset: 14n }],
  }
  const fenced = {
    code: ErrorCodes.FENCED,
    message:
      `batch 8 of app 'wc' was not written: another instance took over the file sink directory '${dir}' ` +
      `(now owned by process ${process.pid} on host '${hostname()}' (owner since ${new Date(taken.since).toISOString()})); ` +
      'this instance has been fenced and must stop',
  }
  await assert.rejects(first.writeBatch(late, job), fenced)
  await assert.rejects(first.writeBatch({ ...late, id: 9 }, job), fenced, 'fencing is final')
  assert.deepEqual(
    await readdir(dir),
    ['.sluice-owner.json', '7.jsonl'],
    'the zombie wrote nothing, left no temp file',
  )

  assert.equal(await second.writeBatch(late, job), 'applied')
  assert.equal(
    await readFile(join(dir, '8.jsonl'), 'utf8'),
    '{"topic":"words","partition":0,"offset":"13","word":"w13"}\n',
  )
})

test('a directory that holds a later batch refuses an earlier one: the run has another checkpoint', async (t) => {
  const dir = tempDir(t, 'file-sink')
  const old = createFileSink({ app: 'wc', dir, logger: silentLogger })
  await old.start()
  await old.writeBatch(b7, job)
  const fresh = createFileSink({ app: 'wc', dir, logger: silentLogger })
  await fresh.start()
  await assert.rejects(fresh.writeBatch({ ...b7, id: 0 }, job), {
    code: ErrorCodes.SINK_OFFSET_MISMATCH,
    message:
      `batch 0 of app 'wc' was not written: '${dir}' already holds the output of batch 7, so it was written by a ` +
      'run with another checkpoint (or this checkpoint is older than the directory); writing batch 0 would mix the ' +
      'batches of two runs; run with the checkpoint that wrote the directory, or give this run an empty directory; ' +
      'nothing was written',
  })
  assert.deepEqual(await readdir(dir), ['.sluice-owner.json', '7.jsonl'])
  // The same checkpoint re-running its last batch, and going on, is fine.
  assert.equal(await fresh.writeBatch({ ...b7, replay: true }, job), 'already-applied')
  assert.equal(await fresh.writeBatch({ ...b7, id: 8 }, job), 'applied')
})

test('a directory another app writes is refused at start', async (t) => {
  const dir = tempDir(t, 'file-sink')
  await createFileSink({ app: 'orders', dir, logger: silentLogger }).start()
  await assert.rejects(createFileSink({ app: 'wc', dir, logger: silentLogger }).start(), {
    code: ErrorCodes.SINK,
    message:
      `the file sink of app 'wc' cannot write '${dir}': app 'orders' writes there (${join(dir, '.sluice-owner.json')}); ` +
      'give each app its own directory',
  })
})

test('a mutex left by a holder killed inside its critical section is removed by the next start', async (t) => {
  const dir = tempDir(t, 'file-sink')
  const dead = spawnSync(process.execPath, [
    '-e',
    'process.stdout.write(String(process.pid))',
  ]).stdout.toString()
  await writeFile(
    join(dir, '.sluice-owner.lock'),
    JSON.stringify({ pid: Number(dead), hostname: hostname(), token: 'gone', since: 0 }),
  )
  const sink = createFileSink({ app: 'wc', dir, logger: silentLogger })
  await sink.start()
  assert.equal(await sink.writeBatch(b7, job), 'applied')
  assert.deepEqual(await readdir(dir), ['.sluice-owner.json', '7.jsonl'])
})
