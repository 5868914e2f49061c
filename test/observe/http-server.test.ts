import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { type TestContext, test } from 'node:test'
import { Registry } from 'prom-client'
import { ErrorCodes } from '../../src/core/errors.ts'
import { silentLogger } from '../../src/core/logger.ts'
import { minEventGapMs } from '../../src/observe/event-stream.ts'
import { JobHistory } from '../../src/observe/history.ts'
import { startObservabilityServer } from '../../src/observe/http-server.ts'
import { SluiceMetrics } from '../../src/observe/metrics.ts'
import { parsePrometheusText, sampleValue } from './prometheus-text.ts'
import { syntheticFailure, syntheticInfo, syntheticProgress, syntheticStarted } from './synthetic.ts'

interface Clock {
  now: number
}

async function serve(t: TestContext, options: { historySize?: number; port?: number } = {}) {
  const clock: Clock = { now: 100_000 }
  let state: 'initialized' | 'active' | 'stopped' = 'active'
  const history = new JobHistory({
    app: 'synthetic',
    batchInterval: 1000,
    historySize: options.historySize ?? 50,
    now: () => clock.now,
    contextState: () => state,
  })
  const registry = new Registry()
  const metrics = SluiceMetrics.of(registry).listen('synthetic')
  const server = await startObservabilityServer({
    host: '127.0.0.1',
    port: options.port ?? 0,
    history,
    registry,
    readinessIntervals: 3,
    logger: silentLogger,
  })
  t.after(async () => {
    await server.close()
    await metrics.stop()
  })
  const get = async (path: string, init?: RequestInit) => {
    const response = await fetch(new URL(path, server.url), init)
    return { status: response.status, type: response.headers.get('content-type'), response }
  }
  const json = async (path: string) => {
    const { status, response } = await get(path)
    // biome-ignore lint/suspicious/noExplicitAny: the tests read API documents field by field
    return { status, body: (await response.json()) as any }
  }
  const complete = (batch: Parameters<typeof syntheticInfo>[0]) => {
    const info = syntheticInfo(batch)
    history.onBatchCompleted(info)
    metrics.listener.onBatchCompleted?.(info)
    return info
  }
  return { server, history, clock, get, json, complete, setState: (s: typeof state) => (state = s) }
}

test('the server listens on loopback and answers the UI pages, static files and the vendored chart library', async (t) => {
  const { server, get } = await serve(t)
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/)
  for (const page of ['/', '/batches', '/batches/12', '/partitions']) {
    const { status, type, response } = await get(page)
    assert.equal(status, 200, page)
    assert.equal(type, 'text/html; charset=utf-8')
    const html = await response.text()
    assert.match(html, /<script type="module" src="\/static\/app.js">/)
    assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'self'/)
  }
  const uplot = await get('/static/vendor/uPlot.iife.min.js')
  assert.equal(uplot.status, 200)
  assert.equal(uplot.type, 'text/javascript; charset=utf-8')
  assert.match(await uplot.response.text(), /uPlot/)
  assert.equal((await get('/static/app.js')).type, 'text/javascript; charset=utf-8')
  assert.equal((await get('/static/style.css')).type, 'text/css; charset=utf-8')
  assert.equal((await get('/static/../http-server.ts')).status, 404)
  assert.equal((await get('/nothing-here')).status, 404)
  const head = await get('/api/app', { method: 'HEAD' })
  assert.equal(head.status, 200)
  assert.equal(await head.response.text(), '')
  const post = await get('/api/app', { method: 'POST' })
  assert.equal(post.status, 405)
  assert.equal(post.response.headers.get('allow'), 'GET, HEAD')
})

test('/api documents follow the listener events: app, batches (paged, newest first), a batch, statistics, partitions', async (t) => {
  const { json, complete, history, clock } = await serve(t)
  for (let id = 0; id < 25; id++) {
    complete({ batchId: id, perPartition: [10 + id, 5], lag: [100 - id, 0], rateLimit: id < 20 ? null : 40 })
  }
  history.onBatchSubmitted({
    batchId: 25,
    batchTime: 1,
    replay: false,
    progress: syntheticProgress({ batchId: 25 }),
  })
  history.onBatchStarted(syntheticStarted(25, clock.now - 30))
  history.onOutputOperationStarted({ batchId: 25, index: 0, name: 'foreachBatch', startedAt: clock.now - 20 })

  const app = await json('/api/app')
  assert.equal(app.status, 200)
  assert.equal(app.body.app, 'synthetic')
  assert.equal(app.body.status, 'active')
  assert.deepEqual(app.body.batches, { completed: 25, failed: 0, replayed: 0, active: 1, kept: 25 })
  // 10+11+...+34 from partition 0, 5 per batch from partition 1.
  assert.equal(app.body.records.total, 550 + 125)
  assert.equal(app.body.last.batchId, 24)
  assert.equal(app.body.last.lag, 76)
  assert.equal(app.body.last.rateLimit, 40)

  const first = await json('/api/batches?limit=10')
  assert.equal(first.body.total, 25)
  assert.deepEqual(
    first.body.items.map((b: { batchId: number }) => b.batchId),
    [24, 23, 22, 21, 20, 19, 18, 17, 16, 15],
  )
  const last = await json('/api/batches?offset=20&limit=10')
  assert.deepEqual(
    last.body.items.map((b: { batchId: number }) => b.batchId),
    [4, 3, 2, 1, 0],
  )
  const row = first.body.items[0]
  assert.deepEqual(row, {
    batchId: 24,
    batchTimeMs: syntheticProgress({ batchId: 24 }).batchTimeMs,
    status: 'completed',
    replay: false,
    numInputRecords: 39,
    inputRecordsPerSecond: 39,
    schedulingDelayMs: 5,
    processingTimeMs: 200,
    totalDelayMs: 205,
    outputs: { done: 1, failed: 0 },
    lag: 76,
    error: null,
  })
  const active = await json('/api/batches?status=active')
  assert.equal(active.body.total, 1)
  assert.equal(active.body.items[0].batchId, 25)
  assert.equal(active.body.items[0].status, 'running')
  assert.equal(active.body.items[0].processingTimeMs, 30)

  const batch = await json('/api/batches/7')
  assert.deepEqual(
    batch.body.progress,
    syntheticProgress({ batchId: 7, perPartition: [17, 5], lag: [93, 0] }),
  )
  assert.deepEqual(batch.body.outputs, [
    { index: 0, name: 'foreachBatch', durationMs: 180, outcome: 'succeeded', error: null },
  ])
  const running = await json('/api/batches/25')
  assert.equal(running.body.status, 'running')
  assert.deepEqual(running.body.outputs, [
    { index: 0, name: 'foreachBatch', durationMs: null, outcome: 'running', error: null },
  ])
  assert.equal((await json('/api/batches/999')).status, 404)

  const stats = await json('/api/statistics')
  assert.equal(stats.body.batches, 25)
  assert.deepEqual(stats.body.batchId, [...Array(25).keys()])
  assert.deepEqual(stats.body.records.slice(0, 3), [15, 16, 17])
  assert.deepEqual(stats.body.lag.slice(-2), [77, 76])
  assert.deepEqual(stats.body.rateLimit.slice(18, 22), [null, null, 40, 40])
  assert.equal(stats.body.averages.totalDelayMs, 205)
  const lastFive = await json('/api/statistics?limit=5')
  assert.deepEqual(lastFive.body.batchId, [20, 21, 22, 23, 24])

  const partitions = await json('/api/partitions?limit=3')
  assert.equal(partitions.body.asOfBatchId, 24)
  assert.deepEqual(partitions.body.partitions[0], {
    input: 'words',
    topic: 'words',
    partition: 0,
    committedOffset: String(25 * 34),
    latestOffset: String(25 * 34 + 76),
    lag: '76',
    lastBatchRecords: 34,
    recordsKept: 32 + 33 + 34,
  })
  assert.deepEqual(partitions.body.timeline.batchId, [22, 23, 24])
  assert.deepEqual(
    partitions.body.timeline.series.map((s: { partition: number; lag: number[] }) => [s.partition, s.lag]),
    [
      [0, [78, 77, 76]],
      [1, [0, 0, 0]],
    ],
  )
  assert.deepEqual(partitions.body.rateLimits, [{ input: 'words', rateLimit: [40, 40, 40] }])

  for (const bad of [
    '/api/batches?status=done',
    '/api/batches?limit=0',
    '/api/batches?offset=-1',
    '/api/statistics?limit=x',
  ]) {
    const response = await json(bad)
    assert.equal(response.status, 400, bad)
    assert.match(response.body.error, /must be/)
  }
})

test('the history is bounded: the API pages only through the batches kept', async (t) => {
  const { json, complete } = await serve(t, { historySize: 4 })
  for (let id = 0; id < 9; id++) complete({ batchId: id })
  const page = await json('/api/batches?limit=100')
  assert.equal(page.body.total, 4)
  assert.deepEqual(
    page.body.items.map((b: { batchId: number }) => b.batchId),
    [8, 7, 6, 5],
  )
  assert.equal((await json('/api/batches/4')).status, 404)
  assert.equal((await json('/api/app')).body.batches.completed, 9)
})

test('a failed batch shows its error in the batch list, the batch document, /api/app and /healthz', async (t) => {
  const { json, complete, history, setState } = await serve(t)
  complete({ batchId: 0 })
  history.onBatchFailed(syntheticFailure({ batchId: 1 }, 'batch 1 failed in output operation #1: disk full'))
  setState('stopped')
  const failed = await json('/api/batches?status=failed')
  assert.equal(failed.body.total, 1)
  assert.deepEqual(failed.body.items[0].error, {
    code: ErrorCodes.BATCH_FAILED,
    message: 'batch 1 failed in output operation #1: disk full',
  })
  assert.deepEqual(
    (await json('/api/batches?status=completed')).body.items.map((b: { batchId: number }) => b.batchId),
    [0],
  )
  const batch = await json('/api/batches/1')
  assert.equal(batch.body.status, 'failed')
  assert.deepEqual(batch.body.outputs[0], {
    index: 0,
    name: 'foreachBatch',
    durationMs: 12,
    outcome: 'failed',
    error: 'batch 1 failed in output operation #1: disk full',
  })
  const app = await json('/api/app')
  assert.equal(app.body.status, 'failed')
  assert.deepEqual(app.body.error, {
    code: ErrorCodes.BATCH_FAILED,
    message: 'batch 1 failed in output operation #1: disk full',
    batchId: 1,
  })
  const health = await json('/healthz')
  assert.equal(health.status, 503)
  assert.equal(health.body.status, 'failed')
  const ready = await json('/readyz')
  assert.deepEqual(ready, { status: 503, body: { ready: false, reason: 'the stream failed' } })
})

test('/healthz says alive; /readyz turns unready after readinessIntervals without a finished batch, and ready again after one', async (t) => {
  const { json, complete, clock, setState } = await serve(t)
  assert.deepEqual(await json('/healthz'), { status: 200, body: { status: 'alive', stream: 'active' } })
  assert.equal((await json('/readyz')).status, 200)
  clock.now += 3001
  const stalled = await json('/readyz')
  assert.equal(stalled.status, 503)
  assert.match(stalled.body.reason, /no batch finished for 3001 ms since the stream started/)
  complete({ batchId: 0 })
  assert.equal((await json('/readyz')).status, 200)
  clock.now += 2999
  assert.equal((await json('/readyz')).status, 200)
  clock.now += 2
  assert.equal((await json('/readyz')).status, 503)
  complete({ batchId: 1 })
  assert.equal((await json('/readyz')).status, 200)
  setState('stopped')
  assert.deepEqual(await json('/readyz'), {
    status: 503,
    body: { ready: false, reason: 'the stream is stopped' },
  })
  assert.deepEqual(await json('/healthz'), { status: 200, body: { status: 'alive', stream: 'stopped' } })
})

test('/metrics serves the registry in the Prometheus text format', async (t) => {
  const { get, complete } = await serve(t)
  complete({ batchId: 0, perPartition: [3, 4], lag: [7, 9] })
  const { status, type, response } = await get('/metrics')
  assert.equal(status, 200)
  assert.equal(type, 'text/plain; version=0.0.4; charset=utf-8')
  const families = parsePrometheusText(await response.text())
  assert.equal(sampleValue(families, 'sluice_partition_lag', { partition: '1' }), 9)
  assert.equal(sampleValue(families, 'sluice_batches_completed_total', { app: 'synthetic' }), 1)
})

test('live pages hear of a change at once, and of a burst of changes in one event after it', async (t) => {
  const { server, complete } = await serve(t)
  const controller = new AbortController()
  t.after(() => controller.abort())
  const response = await fetch(new URL('/api/events', server.url), { signal: controller.signal })
  assert.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8')
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
  let text = ''
  const readUntil = async (pattern: RegExp) => {
    while (!pattern.test(text)) {
      const { value, done } = await reader.read()
      if (done) throw new Error(`the event stream ended before ${pattern}: ${text}`)
      text += value
    }
  }
  await readUntil(/retry: 2000\n\n/)
  complete({ batchId: 0 })
  const sentAt = performance.now()
  complete({ batchId: 1 })
  complete({ batchId: 2 })
  await readUntil(/"batchId":2/)
  const heldFor = performance.now() - sentAt
  assert.equal(
    text.slice(text.indexOf('event:')),
    'event: change\nid: 1\ndata: {"seq":1,"kind":"completed","batchId":0,"changes":1}\n\n' +
      'event: change\nid: 3\ndata: {"seq":3,"kind":"completed","batchId":2,"changes":2}\n\n',
  )
  assert.ok(heldFor >= minEventGapMs - 5, `the burst's event came ${heldFor} ms after the first`)
})

test('a port in use is a clear error naming host and port', async (t) => {
  const blocker = createServer()
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => blocker.close(() => resolve())))
  const port = (blocker.address() as { port: number }).port
  await assert.rejects(serve(t, { port }), (error: Error & { code?: string }) => {
    assert.equal(error.code, ErrorCodes.UI_SERVER)
    assert.equal(
      error.message,
      `the UI could not start: 127.0.0.1:${port} is already in use (another job's UI, or Spark's, on the same port?): set ui.port to a free port, or 0 for any`,
    )
    return true
  })
})
