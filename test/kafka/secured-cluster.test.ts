import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { ErrorCodes, type SluiceError } from '../../src/core/errors.ts'
import { silentLogger } from '../../src/core/logger.ts'
import { KafkaClient } from '../../src/kafka/client.ts'
import { OffsetRange } from '../../src/kafka/offset-range.ts'
import type { KafkaClientOptions } from '../../src/kafka/options.ts'
import type { LocalKafka } from '../../src/local-kafka/broker.ts'
import { createKafkaSink } from '../../src/sinks/kafka-sink.ts'
import { createRDD } from '../../src/source/create-rdd.ts'
import { createDirectStream } from '../../src/source/direct-stream.ts'
import { StreamingContext } from '../../src/stream/streaming-context.ts'
import { eventually } from '../helpers/eventually.ts'
import { privateBroker } from '../helpers/own-servers.ts'

// A broker of the test's own whose only client listener is SASL_SSL: SCRAM-SHA-512 logins over
// TLS with a certificate signed by a CA the harness made with keytool.
const users = [
  { username: 'broker', password: 'broker-secret' },
  { username: 'alice', password: 'alice-secret' },
]
let kafka: LocalKafka
let client: KafkaClient
let security: Pick<KafkaClientOptions, 'tls' | 'sasl'>

let topics = 0
async function topic(t: TestContext, partitions: number): Promise<string> {
  const name = `secured-${topics++}`
  await client.createTopics([{ name, partitions }])
  t.after(() => client.deleteTopics([name]).catch(() => {}))
  return name
}

const values = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}${i}`)

/** Each partition's end once no transaction is open on it (last stable offset = high watermark). */
async function eventuallyStable(topic: string, partitions: number): Promise<bigint[]> {
  const list = Array.from({ length: partitions }, (_, partition) => ({ topic, partition }))
  let ends: bigint[] = []
  await eventually(async () => {
    const [stable, latest] = await Promise.all([
      client.listOffsets(list, 'lastStable'),
      client.listOffsets(list, 'latest'),
    ])
    ends = latest.map((o) => o.offset)
    return stable.every((o, i) => o.offset === ends[i])
  }, `no open transaction on ${topic}`)
  return ends
}

test('a SASL_SSL-only broker: reads, writes, and logins that must fail at start', {
  timeout: 600_000,
}, async (parent) => {
  kafka = await privateBroker(parent, { security: { users } })
  security = kafka.clientSecurity('alice')
  client = new KafkaClient({ brokers: [kafka.bootstrap], logger: silentLogger, ...security })
  parent.after(() => client.close())

  await parent.test(
    'the harness starts a SASL_SSL-only broker: keytool certificates in its dir, SCRAM users from the format',
    async () => {
      const properties = readFileSync(join(kafka.state.dir, 'server.properties'), 'utf8')
      assert.match(
        properties,
        new RegExp(`^listeners=SASL_SSL://127\\.0\\.0\\.1:${kafka.state.port},CONTROLLER:`, 'm'),
      )
      assert.match(properties, /^sasl\.enabled\.mechanisms=SCRAM-SHA-512$/m)
      assert.doesNotMatch(properties, /PLAINTEXT:\/\/127\.0\.0\.1:\d+,/)
      assert.ok(existsSync(join(kafka.state.dir, 'tls', 'broker.p12')))
      assert.match(
        readFileSync(join(kafka.state.dir, 'tls', 'ca.pem'), 'utf8'),
        /^-----BEGIN CERTIFICATE-----/,
      )
      // Both users log in; the broker's own user is what it uses between its listeners.
      for (const user of users) {
        const asUser = new KafkaClient({
          brokers: [kafka.bootstrap],
          logger: silentLogger,
          ...kafka.clientSecurity(user.username),
        })
        const cluster = await asUser.metadata([])
        assert.equal(cluster.brokers.size, 1)
        await asUser.close()
      }
    },
  )

  await parent.test(
    'createRDD, a direct stream and the Kafka sink read and write exactly through SASL_SSL',
    async (t) => {
      const source = await topic(t, 2)
      const out = await topic(t, 2)
      await client.produce(values('v', 400).map((value, i) => ({ topic: source, partition: i % 2, value })))

      const rdd = createRDD(
        { brokers: [kafka.bootstrap], ...security, logger: silentLogger, deserializers: { value: 'string' } },
        [OffsetRange.create(source, 0, 0n, 200n), OffsetRange.create(source, 1, 0n, 200n)],
      )
      assert.deepEqual((await rdd.map((r) => r.value!).collect()).sort(), values('v', 400).sort())

      // The stream copies every value, upper-cased, into `out` through the transactional sink.
      const sink = createKafkaSink({
        app: 'secured',
        brokers: [kafka.bootstrap],
        connection: security,
        logger: silentLogger,
      })
      t.after(() => sink.close())
      await sink.start()
      const ssc = new StreamingContext({ appName: 'secured', batchInterval: 100, logger: silentLogger })
      const stream = createDirectStream<string, string>(ssc, {
        brokers: [kafka.bootstrap],
        ...security,
        subscribe: [source],
        startingOffsets: 'earliest',
        deserializers: { value: 'string' },
        maxRatePerPartition: 1000,
      })
      let written = 0
      stream.foreachBatch(async (batchRdd, batch) => {
        const records = (await batchRdd.collect()).map((r) => ({
          topic: out,
          partition: r.partition,
          value: r.value!.toUpperCase(),
        }))
        await sink.writeBatch(batch, (tx) => tx.send(records))
        written += records.length
      })
      await ssc.start()
      t.after(() => ssc.stop({ graceful: false }))
      await eventually(() => written >= 400, 'every record copied', { timeoutMs: 60_000 })
      await ssc.stop({ graceful: true })
      await ssc.awaitTermination()

      // Read back through the same secured connection, as read_committed readers see it.
      const ends = await eventuallyStable(out, 2)
      const copied = await createRDD(
        { client, deserializers: { value: 'string' } },
        ends.map((end, partition) => OffsetRange.create(out, partition, 0n, end)),
      )
        .map((r) => r.value!)
        .collect()
      assert.deepEqual(copied.sort(), values('V', 400).sort())
      assert.deepEqual(await sink.storedOffsets(), { [source]: { 0: 200n, 1: 200n } })
    },
  )

  /** A direct stream that must fail in start(), before any batch is planned. */
  async function startFails(
    options: Pick<KafkaClientOptions, 'tls' | 'sasl'>,
    source: string,
  ): Promise<SluiceError> {
    const ssc = new StreamingContext({ appName: 'refused', batchInterval: 100, logger: silentLogger })
    const stream = createDirectStream<string, string>(ssc, {
      brokers: [kafka.bootstrap],
      ...options,
      subscribe: [source],
      deserializers: { value: 'string' },
    })
    let batches = 0
    ssc.addListener({ onBatchStarted: () => batches++ })
    stream.foreachBatch(async () => {})
    const error = await ssc.start().then(
      () => assert.fail('start() succeeded'),
      (e: SluiceError) => e,
    )
    assert.equal(batches, 0, 'no batch ran')
    return error
  }

  await parent.test(
    'a wrong password fails at start, naming the user, the broker and the refusal',
    async (t) => {
      const source = await topic(t, 1)
      const wrong = { ...security, sasl: { ...security.sasl!, password: 'not-the-password' } }
      const named = (error: SluiceError) => {
        assert.equal(error.code, ErrorCodes.KAFKA_AUTHENTICATION, error.message)
        assert.match(error.message, /authentication failed for user 'alice'/)
        assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${kafka.state.port}`))
        assert.match(error.message, /invalid credentials/)
        return true
      }
      named(await startFails(wrong, source))
      const rdd = createRDD({ brokers: [kafka.bootstrap], ...wrong, logger: silentLogger }, [
        OffsetRange.create(source, 0, 0n, 0n),
      ])
      await assert.rejects(rdd.count(), named)
      const sink = createKafkaSink({
        app: 'wrong-password',
        brokers: [kafka.bootstrap],
        connection: wrong,
        logger: silentLogger,
      })
      t.after(() => sink.close())
      await assert.rejects(sink.start(), named)
    },
  )

  await parent.test(
    'an untrusted certificate fails at start, naming the broker and the verification failure',
    async (t) => {
      const source = await topic(t, 1)
      // TLS without the harness's CA: Node checks the broker against the system's CAs only.
      const untrusted = { ...security, tls: {} }
      const named = (error: SluiceError) => {
        assert.equal(error.code, ErrorCodes.KAFKA_TLS, error.message)
        assert.match(
          error.message,
          new RegExp(`127\\.0\\.0\\.1:${kafka.state.port}: certificate verify failed`),
        )
        assert.match(
          error.message,
          /SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|UNABLE_TO_VERIFY_LEAF_SIGNATURE/,
        )
        return true
      }
      named(await startFails(untrusted, source))
      const rdd = createRDD({ brokers: [kafka.bootstrap], ...untrusted, logger: silentLogger }, [
        OffsetRange.create(source, 0, 0n, 0n),
      ])
      await assert.rejects(rdd.count(), named)
      const sink = createKafkaSink({
        app: 'untrusted',
        brokers: [kafka.bootstrap],
        connection: untrusted,
        logger: silentLogger,
      })
      t.after(() => sink.close())
      await assert.rejects(sink.start(), named)
    },
  )

  await parent.test(
    'a client without TLS against the SASL_SSL listener is told to check its tls and sasl settings',
    async () => {
      const plain = new KafkaClient({
        brokers: [kafka.bootstrap],
        logger: silentLogger,
        sasl: security.sasl!,
        retryTimeoutMs: 1000,
      })
      await assert.rejects(plain.metadata([]), (error: SluiceError) => {
        assert.match(
          error.message,
          new RegExp(`127\\.0\\.0\\.1:${kafka.state.port}: the broker closed the connection`),
        )
        assert.match(error.message, /check that the client's tls and sasl settings match the listener/)
        return true
      })
      await plain.close()
    },
  )
})
