import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import pino from 'pino'
import { ErrorCodes, SluiceError } from '../../src/core/errors.ts'
import { adaptLogger, isPinoLike } from '../../src/core/pino-logger.ts'
import { parallelize } from '../../src/rdd/parallelize.ts'
import { ManualClock } from '../../src/scheduler/manual-clock.ts'
import { queueStream } from '../../src/source/queue-stream.ts'
import { StreamingContext } from '../../src/stream/streaming-context.ts'
import { BatchDriver } from '../../src/testing/batch-driver.ts'

/** A real pino logger writing to memory. */
function memoryPino() {
  const lines: Record<string, unknown>[] = []
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line))
      done()
    },
  })
  return { logger: pino({ level: 'debug' }, destination), lines }
}

test("a pino logger is called the pino way, with bigints as strings and errors in pino's shape", () => {
  const { logger, lines } = memoryPino()
  assert.equal(isPinoLike(logger), true)
  const adapted = adaptLogger(logger).child({ app: 'wc' })
  adapted.warn('records were lost', {
    offset: 9_007_199_254_740_993n,
    error: new SluiceError(ErrorCodes.KAFKA, 'broker down'),
  })
  const [entry] = lines
  assert.equal(entry?.msg, 'records were lost')
  assert.equal(entry.level, 40)
  assert.equal(entry.app, 'wc')
  assert.equal(entry.offset, '9007199254740993')
  assert.deepEqual(
    { ...(entry.error as object), stack: undefined },
    { type: 'SluiceError', message: 'broker down', code: ErrorCodes.KAFKA, stack: undefined },
  )
})

test('a StreamingContext given a pino logger writes its per-batch lines through it', async () => {
  const { logger, lines } = memoryPino()
  const clock = new ManualClock(1_000)
  const ssc = new StreamingContext({ appName: 'pino-job', batchInterval: 100, clock, logger })
  queueStream(ssc, [parallelize(['a', 'b'])]).foreachBatch(() => {})
  const driver = new BatchDriver(ssc, clock)
  await ssc.start()
  await driver.next()
  await ssc.stop()
  const batch = lines.find((l) => l.msg === 'batch completed')
  assert.equal(batch?.level, 30)
  assert.equal(batch.app, 'pino-job')
  assert.equal(batch.batchId, 0)
  assert.equal(batch.records, 2)
  assert.deepEqual(
    lines.map((l) => l.msg),
    ['stream started', 'batch completed', 'stream stopped'],
  )
})

test('a logger that is neither kind fails at construction naming the option', () => {
  assert.throws(
    () => new StreamingContext({ appName: 'a', batchInterval: 10, logger: { info() {} } as never }),
    {
      code: ErrorCodes.INVALID_OPTION,
      message:
        "new StreamingContext: option 'logger' must be a Logger (an object with debug, info, warn, error and child methods); it has no debug, warn, error, child method",
    },
  )
})
