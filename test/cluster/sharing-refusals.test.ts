// What a stream whose partitions several processes share refuses, before it contacts anything.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes, type SluiceError } from '../../src/core/errors.ts'
import { silentLogger } from '../../src/core/logger.ts'
import { createKafkaSink } from '../../src/sinks/kafka-sink.ts'
import { createSqlSink } from '../../src/sinks/sql/sql-sink.ts'
import { createDirectStream, type DirectStreamOptions } from '../../src/source/direct-stream.ts'
import { StreamingContext } from '../../src/stream/streaming-context.ts'

const context = () => new StreamingContext({ appName: 'wc', batchInterval: 50, logger: silentLogger })
const sqlSink = () =>
  createSqlSink({ app: 'wc', postgres: { connectionString: 'postgres://db.invalid/wc' }, tables: ['counts'] })
const P = 'createDirectStream: '

function refused(options: Partial<DirectStreamOptions<string, string>>, message: string | RegExp): void {
  assert.throws(
    () => createDirectStream(context(), { brokers: ['h:1'], subscribe: ['words'], ...options } as never),
    (e: SluiceError) => {
      assert.equal(e.code, ErrorCodes.INVALID_OPTION)
      if (typeof message === 'string') assert.equal(e.message, message)
      else assert.match(e.message, message)
      return true
    },
  )
}

test('a shared stream without an offset-storing sink is refused at construction, saying why', () => {
  refused(
    { group: { id: 'wc' } },
    `${P}option 'offsetStore' is required with 'group': the positions of the partitions a process takes over come ` +
      'from the sink that stores the offsets with the output (createSqlSink or createKafkaSink), and that sink fences ' +
      'the process that had them; a local checkpoint cannot know what other processes did',
  )
  refused(
    { split: { instance: 0, of: 2, epoch: 1 } },
    /^createDirectStream: option 'offsetStore' is required with 'split': /,
  )
  refused(
    { group: { id: 'wc' }, offsetStore: {} as never },
    /^createDirectStream: option 'offsetStore' must be a sink that stores offsets with its output \(createSqlSink or createKafkaSink\)/,
  )
  refused(
    { offsetStore: sqlSink() },
    /^createDirectStream: option 'offsetStore' is for streams whose partitions several processes share/,
  )
})

test('sharing options that cannot work together are refused at construction, naming the option', () => {
  const offsetStore = sqlSink()
  refused(
    { group: { id: 'wc' }, split: { instance: 0, of: 2, epoch: 1 }, offsetStore },
    `${P}option 'split' cannot be combined with 'group': give one way to share the partitions`,
  )
  refused(
    { subscribe: undefined, assign: [{ topic: 'words', partition: 0 }], group: { id: 'wc' }, offsetStore },
    /^createDirectStream: option 'assign' cannot be combined with 'group'/,
  )
  refused(
    { group: { id: 'wc' }, groupId: 'wc', offsetStore },
    /^createDirectStream: option 'groupId' cannot be combined with 'group': commitAsync commits without group membership/,
  )
  refused(
    { split: { instance: 2, of: 2, epoch: 1 }, offsetStore },
    `${P}option 'split.instance' must be below 'of' (2): instances count from 0, got 2`,
  )
  refused(
    { group: { id: 'wc', sessionTimeoutMs: 10_000, heartbeatIntervalMs: 10_000 }, offsetStore },
    `${P}option 'group.heartbeatIntervalMs' must be below sessionTimeoutMs (10000), got 10000`,
  )
  refused(
    { group: { id: 'wc', sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 10_000 }, offsetStore },
    `${P}option 'group.rebalanceTimeoutMs' must be at least sessionTimeoutMs (30000), got 10000`,
  )
})

test('the Kafka sink as offset store: its group must be the stream group, each process needs its own transactional id, and a split cannot be fenced', () => {
  const kafkaSink = (options: object = {}) =>
    createKafkaSink({ app: 'wc', brokers: ['h:1'], groupId: 'wc', transactionalId: 'wc-pod-0', ...options })
  refused(
    { group: { id: 'other' }, offsetStore: kafkaSink() },
    /option 'offsetStore' is a Kafka sink that commits offsets to consumer group 'wc', but the stream's group is 'other'/,
  )
  refused(
    { group: { id: 'wc' }, offsetStore: kafkaSink({ transactionalId: undefined }) },
    /option 'offsetStore' is a Kafka sink with the default transactional id '.*', which every process of the group would share/,
  )
  refused(
    { split: { instance: 0, of: 2, epoch: 1 }, offsetStore: kafkaSink() },
    /option 'split' cannot keep its offsets in the Kafka sink: Kafka refuses the offsets of a process that lost its partitions only by its consumer group generation/,
  )
  assert.doesNotThrow(() =>
    createDirectStream(context(), {
      brokers: ['h:1'],
      subscribe: ['words'],
      group: { id: 'wc' },
      offsetStore: kafkaSink(),
    }),
  )
})

test('windows and state on a shared stream are refused when the context starts, before it contacts Kafka, saying what per-partition state would take', async () => {
  const cases: [
    string,
    (stream: ReturnType<typeof sharedWords>['pairs']) => { foreachBatch(fn: () => void): void },
  ][] = [
    ['window', (pairs) => pairs.window(200)],
    ['reduceByKeyAndWindow', (pairs) => pairs.reduceByKeyAndWindow((a, b) => a + b, 200)],
    [
      'updateStateByKey',
      (pairs) =>
        pairs.updateStateByKey<string, number, number>((values, state) => (state ?? 0) + values.length),
    ],
    ['mapWithState', (pairs) => pairs.mapWithState<string, number, number, string>({ fn: (key) => key })],
  ]
  for (const [operation, stateful] of cases) {
    const { ssc, pairs } = sharedWords()
    stateful(pairs).foreachBatch(() => {})
    await assert.rejects(ssc.start(), (e: SluiceError) => {
      assert.equal(e.code, ErrorCodes.INVALID_ARGUMENT, `${operation}: ${e.message}`)
      assert.match(
        e.message,
        /^input 'direct-kafka-0' shares its partitions with other processes \(consumer group 'wc'\), so windows and state cannot be used on it \(/,
      )
      assert.match(
        e.message,
        /That would take state kept per input partition, stored with the sink and handed over with the partition/,
      )
      return true
    })
    await ssc.stop()
  }
})

function sharedWords() {
  const ssc = new StreamingContext({
    appName: 'wc',
    batchInterval: 100,
    logger: silentLogger,
  })
  const stream = createDirectStream(ssc, {
    brokers: ['h:1'],
    subscribe: ['words'],
    group: { id: 'wc' },
    offsetStore: sqlSink(),
  })
  const pairs = stream.map((record): [string, number] => [String(record.value), 1])
  return { ssc, pairs }
}
