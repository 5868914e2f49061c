import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { Registry } from 'prom-client'
import { silentLogger } from '../../src/core/logger.ts'
import type { KafkaClient } from '../../src/kafka/client.ts'
import { createFileSink } from '../../src/sinks/file-sink.ts'
import { createDirectStream } from '../../src/source/direct-stream.ts'
import type { BatchInfo } from '../../src/stream/batch.ts'
import { StreamingContext } from '../../src/stream/streaming-context.ts'
import { bootstrap, createTestTopic, testClient } from '../helpers/kafka.ts'
import { parsePrometheusText, samples, sampleValue } from './prometheus-text.ts'

const partitions = 3

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + 60_000
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

/** A gate an output waits at: closed, it stalls the stream; opened, the stream goes on. */
function gate() {
  let open = Promise.withResolvers<void>()
  let closed = false
  return {
    async pass() {
      if (closed) await open.promise
    },
    close() {
      closed = true
      open = Promise.withResolvers<void>()
    },
    open() {
      closed = false
      open.resolve()
    },
  }
}

async function observedJob(t: TestContext, client: KafkaClient, registry: Registry) {
  const topic = await createTestTopic(t, client, { partitions })
  // 600 records per partition; at most 50 per partition per 100 ms batch: many batches with lag.
  for (let partition = 0; partition < partitions; partition++) {
    await client.produce(
      Array.from({ length: 600 }, (_, i) => ({ topic, partition, value: `p${partition}-${i}` })),
    )
  }
  const ssc = new StreamingContext({
    appName: 'observed',
    batchInterval: 100,
    logger: silentLogger,
    stopOnSignals: false,
    ui: { port: 0, registry, readinessIntervals: 5 },
  })
  const stall = gate()
  const out = mkdtempSync(join(tmpdir(), 'sluice-observed-'))
  const sink = createFileSink({ app: 'observed', dir: out, logger: silentLogger })
  await sink.start()
  createDirectStream<string, string>(ssc, {
    brokers: bootstrap(),
    subscribe: [topic],
    startingOffsets: 'earliest',
    deserializers: { value: 'string' },
    maxRatePerPartition: 500,
    logger: silentLogger,
  }).foreachBatch(async (rdd, batch) => {
    const records = await rdd.count()
    await stall.pass()
    await sink.writeBatch(batch, async (writer) => writer.write({ records }))
  })
  const infos: BatchInfo[] = []
  ssc.addListener({ onBatchCompleted: (info) => infos.push(info) })
  await ssc.start()
  // In this order: the job stops writing before its sink closes and its directory goes.
  t.after(async () => {
    await ssc.stop({ graceful: false })
    await sink.close()
    rmSync(out, { recursive: true, force: true })
  })
  const url = ssc.uiUrl
  assert.ok(url, 'the context tells where its UI listens')
  const get = async (path: string) => {
    const response = await fetch(new URL(path, url))
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      text: await response.text(),
    }
  }
  return { ssc, topic, stall, infos, url, get }
}

test('a job with the UI on: /metrics parses, its lag per partition is latest minus until by ListOffsets, /api matches the listener, /readyz turns unready while batches stall', async (t) => {
  const client = testClient(t)
  const registry = new Registry()
  const { topic, stall, infos, get } = await observedJob(t, client, registry)
  assert.match((await get('/')).text, /<title>sluice<\/title>/)

  // Let some batches complete, then hold the next one in its output: the last completed
  // batch's figures stay put while the test reads them.
  await until('three batches with records', () =>
    infos.filter((i) => i.records > 0).length >= 3 ? true : undefined,
  )
  stall.close()
  const held = infos.length
  await until('the held batch to start', async () => {
    const active = JSON.parse((await get('/api/batches?status=active')).text)
    return active.items.some((b: { status: string }) => b.status === 'running') ? true : undefined
  })
  const last = infos.at(-1)!
  assert.ok(infos.length <= held + 1)

  // /metrics, read with an independent Prometheus text parser.
  const metrics = await get('/metrics')
  assert.equal(metrics.status, 200)
  assert.equal(metrics.type, 'text/plain; version=0.0.4; charset=utf-8')
  const families = parsePrometheusText(metrics.text)
  const latest = await client.listOffsets(
    Array.from({ length: partitions }, (_, partition) => ({ topic, partition })),
    'lastStable',
  )
  const lastRanges = new Map(last.offsetRanges.map((r) => [r.partition, r]))
  for (const { partition, offset } of latest) {
    const labels = { app: 'observed', topic, partition: String(partition) }
    const untilOffset = lastRanges.get(partition)!.untilOffset
    assert.equal(offset, 600n)
    assert.equal(sampleValue(families, 'sluice_partition_latest_offset', labels), Number(offset))
    assert.equal(sampleValue(families, 'sluice_partition_committed_offset', labels), Number(untilOffset))
    assert.equal(sampleValue(families, 'sluice_partition_lag', labels), Number(offset - untilOffset))
  }
  assert.ok(
    samples(families, 'sluice_partition_lag').some((s) => s.value > 0),
    'the rate limit leaves lag behind',
  )
  const app = { app: 'observed' }
  assert.equal(sampleValue(families, 'sluice_batches_completed_total', app), infos.length)
  assert.equal(
    sampleValue(families, 'sluice_records_total', app),
    infos.reduce((sum, i) => sum + i.records, 0),
  )
  assert.equal(sampleValue(families, 'sluice_batch_records', app), last.records)
  assert.equal(
    sampleValue(families, 'sluice_rate_limit_records_per_second', app),
    last.progress.sources[0]!.rateLimit,
  )
  assert.equal(
    families.get('sluice_batch_total_delay_seconds')?.metrics[0]?.buckets?.['+Inf'],
    String(infos.length),
  )
  assert.equal(
    families.get('nodejs_heap_size_total_bytes'),
    undefined,
    "a user's registry gets sluice's metrics only",
  )
  // Every completed batch went through the file sink once; the held one has not reached it.
  assert.equal(
    sampleValue(families, 'sluice_sink_transactions_total', {
      app: 'observed',
      sink: 'file',
      outcome: 'applied',
    }),
    infos.length,
  )

  // /api: each batch's document is the listener's progress record, as JSON.
  for (const info of infos) {
    const document = JSON.parse((await get(`/api/batches/${info.id}`)).text)
    assert.deepEqual(document.progress, JSON.parse(JSON.stringify(info.progress)))
    assert.equal(document.status, 'completed')
  }
  const page = JSON.parse((await get(`/api/batches?limit=${infos.length}`)).text)
  assert.equal(page.total, infos.length)
  assert.deepEqual(
    page.items.map((b: { batchId: number; numInputRecords: number; totalDelayMs: number }) => [
      b.batchId,
      b.numInputRecords,
      b.totalDelayMs,
    ]),
    [...infos].reverse().map((i) => [i.id, i.records, i.totalDelay]),
  )
  const appDocument = JSON.parse((await get('/api/app')).text)
  assert.equal(appDocument.app, 'observed')
  assert.equal(appDocument.batches.completed, infos.length)
  assert.equal(appDocument.last.batchId, last.id)
  assert.equal(
    appDocument.last.lag,
    Number(last.progress.sources[0]!.partitions.reduce((s, p) => s + BigInt(p.lag!), 0n)),
  )
  const partitionsDocument = JSON.parse((await get('/api/partitions')).text)
  assert.deepEqual(
    partitionsDocument.partitions.map(
      (p: { partition: number; committedOffset: string; latestOffset: string; lag: string }) => [
        p.partition,
        p.committedOffset,
        p.latestOffset,
        p.lag,
      ],
    ),
    latest.map((l) => [
      l.partition,
      String(lastRanges.get(l.partition)!.untilOffset),
      '600',
      String(l.offset - lastRanges.get(l.partition)!.untilOffset),
    ]),
  )

  // Held for more than 5 intervals: alive, but not ready.
  assert.equal((await get('/healthz')).status, 200)
  const unready = await until('/readyz to turn unready', async () => {
    const response = await get('/readyz')
    return response.status === 503 ? JSON.parse(response.text) : undefined
  })
  assert.match(
    unready.reason,
    /no batch finished for \d+ ms since the last batch finished \(more than 5 batch intervals of 100 ms\)/,
  )
  stall.open()
  await until('/readyz to turn ready again', async () =>
    (await get('/readyz')).status === 200 ? true : undefined,
  )
  assert.ok(infos.length > held)
})

test('the UI option: a port in use fails start() with an error naming host and port', async (t) => {
  const client = testClient(t)
  const first = await observedJob(t, client, new Registry())
  const port = Number(new URL(first.url).port)
  const topic = await createTestTopic(t, client, { partitions: 1 })
  const ssc = new StreamingContext({
    appName: 'second',
    batchInterval: 100,
    logger: silentLogger,
    stopOnSignals: false,
    ui: { port, registry: new Registry() },
  })
  createDirectStream(ssc, { brokers: bootstrap(), subscribe: [topic], logger: silentLogger }).foreachBatch(
    () => {},
  )
  await assert.rejects(ssc.start(), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'SLUICE_UI_SERVER')
    assert.match(
      error.message,
      new RegExp(`^the UI could not start: 127\\.0\\.0\\.1:${port} is already in use`),
    )
    return true
  })
  assert.equal(ssc.state, 'stopped')
})
