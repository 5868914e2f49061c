import assert from 'node:assert/strict'
import { readdir, readFile, writeFile } from 'node:fs/promises'
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
  assert.deepEqual(await readdir(dir), ['7.jsonl'], 'no temp file is left behind')
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
  assert.deepEqual(await readdir(dir), ['7.jsonl'])
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
  assert.deepEqual(await readdir(dir), ['8.jsonl'], 'the failed batch left no file')
})

test('options are checked at construction and the directory at start', async (t) => {
  assert.throws(() => createFileSink({ app: 'wc', dir: '' }), {
    code: ErrorCodes.INVALID_OPTION,
    message: "option 'dir' must be a non-empty directory path",
  })
  const file = join(tempDir(t, 'file-sink'), 'a-file')
  await writeFile(file, '')
  const sink = createFileSink({ app: 'wc', dir: join(file, 'sub'), logger: silentLogger })
  await assert.rejects(sink.start(), (error: SluiceError) => {
    assert.equal(error.code, ErrorCodes.SINK)
    assert.ok(
      error.message.startsWith(
        `the file sink of app 'wc' cannot create its directory '${join(file, 'sub')}': `,
      ),
      error.message,
    )
    return true
  })
  await assert.rejects(sink.writeBatch(b7, job), {
    code: ErrorCodes.SINK,
    message: "the file sink of app 'wc' is not started; call start() first",
  })
})
