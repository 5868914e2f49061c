import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes, isSluiceError } from '../../../src/core/errors.ts'
import { createLogger } from '../../../src/core/logger.ts'
import { createReceiverStream } from '../../../src/source/receiver/receiver-input-dstream.ts'
import type { ReceiverStreamOptions } from '../../../src/source/receiver/receiver-options.ts'
import { StreamingContext } from '../../../src/stream/streaming-context.ts'

const valid: ReceiverStreamOptions<Buffer, Buffer> = {
  brokers: ['127.0.0.1:9092'],
  topics: ['t'],
  groupId: 'g',
}

function context(checkpoint?: string) {
  return new StreamingContext({
    appName: 'options',
    batchInterval: 1000,
    ...(checkpoint ? { checkpoint } : {}),
    logger: createLogger({ level: 'silent' }),
  })
}

function refuses(options: unknown, message: RegExp, checkpoint?: string) {
  assert.throws(
    () => createReceiverStream(context(checkpoint), options as ReceiverStreamOptions<Buffer, Buffer>),
    (error: unknown) => {
      assert.ok(isSluiceError(error, ErrorCodes.INVALID_OPTION), String(error))
      assert.match(error.message, message)
      return true
    },
  )
}

test('invalid or unknown options fail at construction, naming the option and createReceiverStream', () => {
  refuses(
    { ...valid, topic: ['t'] },
    /^createReceiverStream: unknown option 'topic' — did you mean 'topics'\?$/,
  )
  refuses({ ...valid, topics: [] }, /option 'topics' must be a non-empty array of topic names/)
  refuses({ ...valid, topics: ['ok', ''] }, /option 'topics\[1\]' must be a non-empty string/)
  refuses({ brokers: ['127.0.0.1:9092'], topics: ['t'] }, /option 'groupId' is required/)
  refuses({ ...valid, brokers: ['nohost'] }, /option 'brokers\[0\]' is not 'host:port'/)
  refuses({ ...valid, blockInterval: 0 }, /option 'blockInterval' must be at least 1 \(milliseconds\)/)
  refuses({ ...valid, receiverMaxRate: -5 }, /option 'receiverMaxRate' must be at least 0/)
  refuses(
    { ...valid, startingOffsets: 'smallest' },
    /option 'startingOffsets' must be one of 'earliest', 'latest'/,
  )
  refuses({ ...valid, deserializers: { value: 'utf8' } }, /option 'deserializers.value'/)
  refuses({ ...valid, deserializers: { val: 'string' } }, /unknown option 'deserializers.val'/)
  refuses({ ...valid, backpressure: { enable: true } }, /did you mean 'backpressure.enabled'/)
  refuses(
    { ...valid, heartbeatInterval: 40_000 },
    /option 'heartbeatInterval' must be shorter than sessionTimeout/,
  )
  refuses({ ...valid, isolationLevel: 'committed' }, /option 'isolationLevel'/)
})

test('the write-ahead log needs a checkpoint, and the options of the other mode are refused', () => {
  refuses({ ...valid, writeAheadLog: true }, /option 'writeAheadLog' needs a checkpoint directory/)
  refuses({ ...valid, writeAheadLog: 'yes' }, /option 'writeAheadLog' must be true, false or/, '/tmp/unused')
  refuses(
    { ...valid, writeAheadLog: { rollInterval: 0 } },
    /option 'writeAheadLog.rollInterval'/,
    '/tmp/unused',
  )
  refuses(
    { ...valid, writeAheadLog: { roll: 5 } },
    /did you mean 'writeAheadLog.rollInterval'/,
    '/tmp/unused',
  )
  refuses(
    { ...valid, writeAheadLog: true, autoCommitInterval: 100 },
    /option 'autoCommitInterval' has no effect with writeAheadLog/,
    '/tmp/unused',
  )
  refuses({ ...valid, onDamagedWal: 'skip' }, /option 'onDamagedWal' only applies with writeAheadLog/)
  refuses(
    { ...valid, writeAheadLog: true, onDamagedWal: 'ignore' },
    /option 'onDamagedWal' must be one of 'fail', 'skip'/,
    '/tmp/unused',
  )
})

test("onDeserializationError takes the direct stream's values and messages", () => {
  refuses(
    { ...valid, onDeserializationError: 'drop' },
    /^createReceiverStream: option 'onDeserializationError' must be 'fail', 'skip' or \{ deadLetterTopic: 'topic' \}, got a string \("drop"\)$/,
  )
  refuses(
    { ...valid, onDeserializationError: { deadLetterTopic: '' } },
    /^createReceiverStream: option 'onDeserializationError.deadLetterTopic' must be a topic name, got a string \(""\)$/,
  )
  refuses(
    { ...valid, onDeserializationError: { deadLetterTopik: 'x' } },
    /^createReceiverStream: unknown option 'onDeserializationError.deadLetterTopik' — did you mean 'onDeserializationError.deadLetterTopic'\?$/,
  )
  for (const policy of ['fail', 'skip', { deadLetterTopic: 'dlq' }] as const) {
    assert.doesNotThrow(() => createReceiverStream(context(), { ...valid, onDeserializationError: policy }))
  }
})

test('a valid receiver stream is an input of kind kafka-receiver with a stable default name', () => {
  const ssc = context()
  const first = createReceiverStream(ssc, valid)
  const second = createReceiverStream(ssc, { ...valid, name: 'clicks' })
  const third = createReceiverStream(ssc, valid)
  assert.deepEqual(
    [first, second, third].map((s) => [s.name, s.kind]),
    [
      ['kafka-receiver-0', 'kafka-receiver'],
      ['clicks', 'kafka-receiver'],
      ['kafka-receiver-1', 'kafka-receiver'],
    ],
  )
})
