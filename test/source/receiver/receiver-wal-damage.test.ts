// A damaged write-ahead log is never skipped silently: a torn tail (a crash mid-append) is
// reported and cut off; anything else refuses the start, naming the file and byte offset,
// unless onDamagedWal: 'skip', which goes on and counts what it lost.
import assert from 'node:assert/strict'
import { appendFileSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { test } from 'node:test'
import { ErrorCodes, isSluiceError } from '../../../src/core/errors.ts'
import { createTestTopic, testClient } from '../../helpers/kafka.ts'
import { recordingLogger } from '../../helpers/recording-logger.ts'
import { tempDir } from '../../helpers/temp-dir.ts'
import { leaveBlocksInLog } from './leave-blocks.ts'
import { newGroup, receiverJob, segmentPath, segments, valuesOf } from './support.ts'

const total = 1_000

async function prepared(t: import('node:test').TestContext) {
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions: 2 })
  const checkpoint = tempDir(t, 'receiver')
  const group = newGroup()
  await leaveBlocksInLog({ client, topic, group, checkpoint, total })
  return { topic, checkpoint, group }
}

/** Flips every bit of the byte at `at` of `file`. */
function flipByte(file: string, at: number): void {
  const bytes = readFileSync(file)
  bytes[at] = bytes[at]! ^ 0xff
  writeFileSync(file, bytes)
}

/** Starts a job on the damaged checkpoint, expects the start refused, and returns the error's message. */
async function refusal(options: Parameters<typeof receiverJob>[0]): Promise<string> {
  const job = receiverJob({ ...options, writeAheadLog: true })
  job.stream.foreachBatch(async () => {})
  let message = ''
  await assert.rejects(job.ssc.start(), (error: unknown) => {
    assert.ok(isSluiceError(error, ErrorCodes.CHECKPOINT), String(error))
    message = error.message
    return true
  })
  return message
}

/** Runs a job on the checkpoint until it has processed `count` records (or stopped); returns the values and infos. */
async function processAll(
  options: Parameters<typeof receiverJob>[0],
  count: number,
): Promise<{ values: string[]; lostRecords: number; job: ReturnType<typeof receiverJob> }> {
  const job = receiverJob(options)
  const values: string[] = []
  let lostRecords = 0
  job.stream.foreachBatch(async (rdd) => {
    values.push(...valuesOf(await rdd.collect()))
  })
  job.ssc.addListener({
    onBatchCompleted: (info) => {
      lostRecords += info.lostRecords
      if (values.length + lostRecords >= count) void job.ssc.stop()
    },
  })
  await job.ssc.start()
  await job.ssc.awaitTermination()
  return { values, lostRecords, job }
}

test('a torn tail (an append a crash interrupted) is reported with its file and offset, cut off, and nothing is lost', {
  timeout: 180_000,
}, async (t) => {
  const { topic, checkpoint, group } = await prepared(t)
  const newest = segmentPath(checkpoint, 'data', segments(checkpoint, 'data').at(-1)!)
  const size = statSync(newest).size
  // A frame header promising 500 bytes, and 3 of them: what a crash leaves mid-append.
  appendFileSync(newest, Buffer.from([0xf4, 0x01, 0, 0, 1, 2, 3, 4, 9, 9, 9]))
  const { logger, entries } = recordingLogger()
  const { values } = await processAll(
    { topic, groupId: group, checkpoint, writeAheadLog: true, logger },
    total,
  )
  assert.equal(values.length, total)
  assert.equal(new Set(values).size, total)
  const report = entries.find((e) => e.level === 'warn' && e.file === newest)
  assert.ok(report, `a warning names ${newest}`)
  assert.equal(report.offset, size)
  assert.equal(report.bytes, 11)
  assert.match(report.msg, /interrupted an append/)
  assert.equal(statSync(newest).size, size, 'the torn bytes are cut off')
})

test('a corrupted block still to process refuses the start, naming the file, the byte offset and the way out', {
  timeout: 180_000,
}, async (t) => {
  const { topic, checkpoint, group } = await prepared(t)
  const first = segmentPath(checkpoint, 'data', segments(checkpoint, 'data')[0]!)
  flipByte(first, 40) // inside the first frame's payload (the frame starts at byte 8)
  const message = await refusal({ topic, groupId: group, checkpoint })
  assert.match(message, new RegExp(`'${first}' at byte 8`))
  assert.match(message, /CRC-32 does not match/)
  assert.match(message, /block \d+ \(\d+ records: /)
  assert.match(message, /onDamagedWal: 'skip'/)
})

test("with onDamagedWal: 'skip' the start goes on, logs the lost block's offsets and counts its records as lost", {
  timeout: 180_000,
}, async (t) => {
  const { topic, checkpoint, group } = await prepared(t)
  const first = segmentPath(checkpoint, 'data', segments(checkpoint, 'data')[0]!)
  flipByte(first, 40)
  const { logger, entries } = recordingLogger()
  const { values, lostRecords } = await processAll(
    { topic, groupId: group, checkpoint, writeAheadLog: true, onDamagedWal: 'skip', logger },
    total,
  )
  assert.ok(lostRecords > 0, 'the damaged block is counted as lost')
  assert.equal(values.length + lostRecords, total)
  assert.equal(new Set(values).size, values.length, 'nothing twice')
  const report = entries.find((e) => e.level === 'error' && e.msg.includes(first))
  assert.ok(report, 'the loss is logged at error, naming the file')
  assert.match(report.msg, /\[\d+, \d+\)/, 'with the Kafka offset ranges to replay')
})

test('a segment truncated inside a block still to process is damage, not a torn tail: the start is refused', {
  timeout: 180_000,
}, async (t) => {
  const { topic, checkpoint, group } = await prepared(t)
  const first = segmentPath(checkpoint, 'data', segments(checkpoint, 'data')[0]!)
  truncateSync(first, 30)
  const message = await refusal({ topic, groupId: group, checkpoint })
  assert.match(message, new RegExp(`'${first}' at byte 8`))
  assert.match(message, /ends inside a frame/)
})

test('a damaged tracker log refuses the start, naming the segment and byte offset', {
  timeout: 180_000,
}, async (t) => {
  const { topic, checkpoint, group } = await prepared(t)
  const first = segmentPath(checkpoint, 'metadata', segments(checkpoint, 'metadata')[0]!)
  flipByte(first, 20)
  const message = await refusal({ topic, groupId: group, checkpoint })
  assert.match(message, new RegExp(`tracker log segment '${first}' is damaged at byte 8`))
})
