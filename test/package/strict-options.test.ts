// Every options object of the public API, given one misspelt key and one value of the wrong
// type: each is refused at construction (or when the call is made), before anything
// connects, with a message naming the option as it was written.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { KafkaClient } from '../../src/admin/index.ts'
import { describeReceived } from '../../src/core/describe-value.ts'
import {
  createDirectStream,
  createFileSink,
  createKafkaSink,
  createLogger,
  createRDD,
  createReceiverStream,
  createSqlSink,
  fromSource,
  OffsetRange,
  parallelize,
  queueStream,
  SluiceError,
  StreamingContext,
  silentLogger,
} from '../../src/index.ts'
import { tempDir } from '../helpers/temp-dir.ts'

type Options = Record<string, unknown>

interface Case {
  /** The public call, as a user writes it. */
  readonly call: string
  /** Options that the call accepts. */
  readonly valid: Options
  readonly run: (options: Options) => unknown
  /** [path as written, value, the key the message suggests] */
  readonly typo: readonly [string, unknown, string]
  /** [path, a value of the wrong type] */
  readonly wrongType: readonly [string, unknown]
}

const brokers = ['127.0.0.1:9']
const context = () => new StreamingContext({ appName: 'strict', batchInterval: 1000, logger: silentLogger })
const stream = () =>
  createDirectStream<string, string>(context(), {
    brokers,
    subscribe: ['t'],
    deserializers: { value: 'string' },
  })
const pairs = () => stream().map((r): [string, number] => [r.value ?? '', 1])
const direct = { brokers, subscribe: ['words'] }

const cases: Case[] = [
  {
    call: 'new StreamingContext',
    valid: { appName: 'wc', batchInterval: 1000 },
    run: (o) => new StreamingContext(o as never),
    typo: ['checkpointDir', './ckpt', 'checkpoint'],
    wrongType: ['batchInterval', '1000'],
  },
  {
    call: 'new StreamingContext ui',
    valid: { appName: 'wc', batchInterval: 1000, ui: { port: 0 } },
    run: (o) => new StreamingContext(o as never),
    typo: ['ui.prot', 4040, 'ui.port'],
    wrongType: ['stopTimeout', '5s'],
  },
  {
    call: 'queueStream',
    valid: {},
    run: (o) => queueStream(context(), [parallelize([1])], o as never),
    typo: ['oneAtATim', true, 'oneAtATime'],
    wrongType: ['name', 7],
  },
  {
    call: 'createReceiverStream',
    valid: { brokers, topics: ['words'], groupId: 'wc' },
    run: (o) => createReceiverStream(context(), o as never),
    typo: ['blockIntreval', 100, 'blockInterval'],
    wrongType: ['receiverMaxRate', '1000'],
  },
  {
    call: 'createReceiverStream writeAheadLog',
    valid: { brokers, topics: ['words'], groupId: 'wc', writeAheadLog: {} },
    run: (o) =>
      createReceiverStream(
        new StreamingContext({
          appName: 'strict',
          batchInterval: 1000,
          checkpoint: '/nonexistent/unused',
          logger: silentLogger,
        }),
        o as never,
      ),
    typo: ['writeAheadLog.rollIntervall', 1000, 'writeAheadLog.rollInterval'],
    wrongType: ['writeAheadLog.maxSegmentBytes', '64MB'],
  },
  {
    call: 'StreamingContext.stop',
    valid: {},
    run: (o) => context().stop(o as never),
    typo: ['gracefull', true, 'graceful'],
    wrongType: ['graceful', 'yes'],
  },
  {
    call: 'createDirectStream',
    valid: direct,
    run: (o) => createDirectStream(context(), o as never),
    typo: ['startingOffset', 'earliest', 'startingOffsets'],
    wrongType: ['maxRatePerPartition', '100'],
  },
  {
    call: 'createDirectStream backpressure',
    valid: { ...direct, backpressure: { enabled: true } },
    run: (o) => createDirectStream(context(), o as never),
    typo: ['backpressure.enable', true, 'backpressure.enabled'],
    wrongType: ['backpressure.initialRate', '1000'],
  },
  {
    call: 'createDirectStream backpressure.pid',
    valid: { ...direct, backpressure: { enabled: true, pid: {} } },
    run: (o) => createDirectStream(context(), o as never),
    typo: ['backpressure.pid.integrall', 0.1, 'backpressure.pid.integral'],
    wrongType: ['backpressure.pid.proportional', null],
  },
  {
    call: 'createDirectStream deserializers',
    valid: { ...direct, deserializers: {} },
    run: (o) => createDirectStream(context(), o as never),
    typo: ['deserializers.values', 'string', 'deserializers.value'],
    wrongType: ['deserializers.key', 5],
  },
  {
    call: 'createDirectStream assign',
    valid: { brokers, assign: [{ topic: 'words', partition: 0 }] },
    run: (o) => createDirectStream(context(), o as never),
    typo: ['assign[0].partiton', 1, 'assign[0].partition'],
    wrongType: ['assign[0].partition', '0'],
  },
  {
    call: 'createDirectStream tls',
    valid: { ...direct, tls: {} },
    run: (o) => createDirectStream(context(), o as never),
    typo: ['tls.rejectUnauthorised', false, 'tls.rejectUnauthorized'],
    wrongType: ['tls.rejectUnauthorized', 'false'],
  },
  {
    call: 'createDirectStream sasl',
    valid: { ...direct, sasl: { mechanism: 'SCRAM-SHA-512', username: 'u', password: 'p' } },
    run: (o) => createDirectStream(context(), o as never),
    typo: ['sasl.usename', 'u', 'sasl.username'],
    wrongType: ['sasl.password', 1234],
  },
  {
    call: 'createRDD',
    valid: { brokers },
    run: (o) => createRDD(o as never, [OffsetRange.create('words', 0, 0n, 1n)]),
    typo: ['maxBytesPerFetc', 65_536, 'maxBytesPerFetch'],
    wrongType: ['taskConcurrency', '4'],
  },
  {
    call: 'createSqlSink',
    valid: { app: 'wc', sqlite: { path: '/tmp/never-opened.db' } },
    run: (o) => createSqlSink(o as never),
    typo: ['table', ['t'], 'tables'],
    wrongType: ['tables', 'word_counts'],
  },
  {
    call: 'createSqlSink postgres',
    valid: { app: 'wc', postgres: { connectionString: 'postgresql://h/db' } },
    run: (o) => createSqlSink(o as never),
    typo: ['postgres.maxConnection', 2, 'postgres.maxConnections'],
    wrongType: ['postgres.connectTimeoutMs', '10s'],
  },
  {
    call: 'createKafkaSink',
    valid: { app: 'wc', brokers },
    run: (o) => createKafkaSink(o as never),
    typo: ['transactionalID', 'x', 'transactionalId'],
    wrongType: ['transactionTimeoutMs', '60s'],
  },
  {
    call: 'createKafkaSink connection',
    valid: { app: 'wc', brokers, connection: {} },
    run: (o) => createKafkaSink(o as never),
    typo: ['connection.requestTimeout', 5000, 'connection.requestTimeoutMs'],
    wrongType: ['connection.clientId', 42],
  },
  {
    call: 'createFileSink',
    valid: { app: 'wc', dir: '/tmp/never-created' },
    run: (o) => createFileSink(o as never),
    typo: ['dirs', '/tmp/x', 'dir'],
    wrongType: ['dir', 5],
  },
  {
    call: 'reduceByKey',
    valid: {},
    run: (o) => pairs().reduceByKey((a, b) => a + b, o as never),
    typo: ['numPartition', 2, 'numPartitions'],
    wrongType: ['numPartitions', '2'],
  },
  {
    call: 'reduceByKeyAndWindow (incremental)',
    valid: {},
    run: (o) =>
      pairs().reduceByKeyAndWindow(
        (a, b) => a + b,
        (a, b) => a - b,
        3000,
        1000,
        o as never,
      ),
    typo: ['filtr', () => true, 'filter'],
    wrongType: ['filter', true],
  },
  {
    call: 'updateStateByKey',
    valid: {},
    run: (o) =>
      pairs().updateStateByKey<string, number, number>((values, s) => (s ?? 0) + values.length, o as never),
    typo: ['checkpointIntervall', 5, 'checkpointInterval'],
    wrongType: ['checkpointInterval', '5'],
  },
  {
    call: 'mapWithState',
    valid: { fn: () => undefined },
    run: (o) => pairs().mapWithState(o as never),
    typo: ['timout', 1000, 'timeout'],
    wrongType: ['timeout', '1000'],
  },
  {
    call: 'mapWithState keyCodec',
    valid: { fn: () => undefined, keyCodec: { encode: (k: unknown) => k, decode: (j: unknown) => j } },
    run: (o) => pairs().mapWithState(o as never),
    typo: ['nam', 'sessions', 'name'],
    wrongType: ['keyCodec.name', 7],
  },
  {
    call: 'DStream.print',
    valid: {},
    run: (o) => stream().print(3, o as never),
    typo: ['writ', () => {}, 'write'],
    wrongType: ['write', 'stdout'],
  },
  {
    call: 'parallelize',
    valid: {},
    run: (o) => parallelize([1, 2, 3], 1, o as never),
    typo: ['chunksize', 2, 'chunkSize'],
    wrongType: ['chunkSize', '2'],
  },
  {
    call: 'Rdd.countByValue',
    valid: {},
    run: (o) => parallelize([1, 2, 3]).countByValue(o as never),
    typo: ['keySerialiser', () => '', 'keySerializer'],
    wrongType: ['keySerializer', 'json'],
  },
  {
    call: 'Rdd.collect',
    valid: {},
    run: (o) => fromSource(1, () => [[1]]).collect(o as never),
    typo: ['signl', new AbortController().signal, 'signal'],
    wrongType: ['signal', true],
  },
  {
    call: 'createLogger',
    valid: {},
    run: (o) => createLogger(o as never),
    typo: ['levle', 'warn', 'level'],
    wrongType: ['sink', 'stderr'],
  },
  {
    call: 'new KafkaClient',
    valid: { brokers },
    run: (o) => new KafkaClient(o as never),
    typo: ['broker', brokers, 'brokers'],
    wrongType: ['connectTimeoutMs', '10000'],
  },
]

/** The message of what `run` throws or rejects with, following causes (a sink wraps errors). */
async function refusal(run: () => unknown): Promise<string> {
  try {
    await run()
  } catch (error) {
    assert.ok(error instanceof SluiceError, `a SluiceError: ${error}`)
    assert.equal(error.code, 'SLUICE_INVALID_OPTION')
    return error.message
  }
  assert.fail('the options were accepted')
}

for (const c of cases) {
  test(`${c.call}: a misspelt key and a wrong type are refused, naming the option`, async () => {
    await c.run(deepCopy(c.valid) as Options) // the valid options are accepted
    const [typo, typoValue, suggestion] = c.typo
    assert.match(
      await refusal(() => c.run(setPath(c.valid, typo, typoValue))),
      new RegExp(`unknown option '${escapeRegExp(typo)}' — did you mean '${escapeRegExp(suggestion)}'\\?$`),
    )
    const [path, value] = c.wrongType
    const message = await refusal(() => c.run(setPath(c.valid, path, value)))
    assert.match(
      message,
      new RegExp(`option '${escapeRegExp(path)}' must be .*, got ${escapeRegExp(describeReceived(value))}`),
    )
  })
}

test('upsert options inside a batch: a misspelt key fails the batch and applies nothing', async (t) => {
  const dir = tempDir(t, 'strict')
  const sink = createSqlSink({ app: 'wc', sqlite: { path: join(dir, 'db.sqlite') }, logger: silentLogger })
  await sink.start()
  t.after(() => sink.close())
  const batch = { id: 0, time: 0, offsetRanges: [], replay: false }
  await assert.rejects(
    sink.writeBatch(batch, (tx) =>
      tx.upsert('t', ['k'], [{ k: 'a', n: 1 }], { ad: ['n'] } as never).then(() => undefined),
    ),
    (error: SluiceError) => {
      assert.equal(error.code, 'SLUICE_SINK')
      assert.match(error.message, /unknown option 'ad' — did you mean 'add'\?/)
      assert.equal((error.cause as SluiceError).code, 'SLUICE_INVALID_OPTION')
      return true
    },
  )
})

/** A copy of `options` with `value` at `path` (`a.b`, `a[0].b`). */
function setPath(options: Options, path: string, value: unknown): Options {
  const copy = deepCopy(options) as Options
  const keys = path.split(/\.|\[(\d+)\]\.?/).filter((k) => k !== undefined && k !== '')
  let target = copy as Record<string, unknown>
  for (const key of keys.slice(0, -1)) target = target[key] as Record<string, unknown>
  target[keys.at(-1)!] = value
  return copy
}

function deepCopy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(deepCopy)
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deepCopy(v)]))
  }
  return value
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
