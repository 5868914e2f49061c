// The web UI in a real browser, on a running word count job over a real broker: every page
// loads, the figures it shows are the API's, it updates live, and a failed batch shows its
// error. Screenshots go to a temporary directory, or to docs/images with
// SLUICE_SCREENSHOTS=docs/images (that is how the docs' pictures are made).
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { type TestContext, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Page } from 'playwright-core'
import { silentLogger } from '../../src/core/logger.ts'
import type { KafkaClient } from '../../src/kafka/client.ts'
import { attachObservability } from '../../src/observe/index.ts'
import { createDirectStream } from '../../src/source/direct-stream.ts'
import type { BatchInfo } from '../../src/stream/batch.ts'
import { StreamingContext } from '../../src/stream/streaming-context.ts'
import { bootstrap, createTestTopic, testClient } from '../helpers/kafka.ts'
import { openBrowser } from './browser.ts'

const words =
  'stream batch offset range kafka partition leader record exactly once checkpoint replay driver window state sink commit rate'.split(
    ' ',
  )

function screenshotDir(t: TestContext): string {
  const configured = process.env.SLUICE_SCREENSHOTS
  if (configured) {
    mkdirSync(configured, { recursive: true })
    return resolve(configured)
  }
  const dir = mkdtempSync(join(tmpdir(), 'sluice-ui-shots-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + 60_000
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

/** Partition of the i-th line: four, three, two and one in ten, so the partitions fill unevenly. */
const skewed = (i: number) => [0, 0, 0, 0, 1, 1, 1, 2, 2, 3][i % 10]!

/** Writes lines to the topic at a rate that rises and falls (about 3,500 a second), until stopped. */
function producer(client: KafkaClient, topic: string) {
  let stopped = false
  let tick = 0
  const running = (async () => {
    while (!stopped) {
      const lines = 300 + Math.round(200 * Math.sin(tick / 6)) + (tick % 17 === 0 ? 600 : 0)
      await client.produce(
        Array.from({ length: lines }, (_, i) => ({
          topic,
          partition: skewed(i + tick),
          value: Array.from(
            { length: 4 + ((i * 7 + tick) % 5) },
            (_, w) => words[(i * 13 + w * 5 + tick) % words.length],
          ).join(' '),
        })),
      )
      tick++
      await sleep(100)
    }
  })()
  return async () => {
    stopped = true
    await running
  }
}

/**
 * A word count with running totals (updateStateByKey) and a second output, its UI attached
 * directly so that it outlives the stream and still shows the failure at the end. `hold`
 * stalls the job inside its first output; `fail` makes the next batch's second output throw.
 */
async function wordCountJob(t: TestContext) {
  // Registered first, so it runs first: the producer stops before its client is closed under it.
  let stopProducing: (() => Promise<void>) | undefined
  t.after(() => stopProducing?.())
  const client = testClient(t)
  const partitions = 4
  const topic = await createTestTopic(t, client, { partitions, prefix: 'words' })
  const checkpoint = mkdtempSync(join(tmpdir(), 'sluice-ui-ckpt-'))
  t.after(() => rmSync(checkpoint, { recursive: true, force: true }))
  // A backlog to start with: the rate limit spreads it over batches, so lag builds and drains.
  await client.produce(
    Array.from({ length: 12_000 }, (_, i) => ({
      topic,
      partition: i % partitions,
      value: words.slice(i % 7, (i % 7) + 5).join(' '),
    })),
  )
  const ssc = new StreamingContext({
    appName: 'wordcount',
    batchInterval: 250,
    checkpoint,
    logger: silentLogger,
    stopOnSignals: false,
  })
  const ui = await attachObservability(ssc, { port: 0, readinessIntervals: 1000 })
  t.after(() => ui.close())
  let held: PromiseWithResolvers<void> | undefined
  let failNext = false
  const lines = createDirectStream<string, string>(ssc, {
    brokers: bootstrap(),
    subscribe: [topic],
    startingOffsets: 'earliest',
    deserializers: { value: 'string' },
    maxRatePerPartition: 1_000, // 250 a batch: the busier partitions fall behind
    backpressure: { enabled: true },
    logger: silentLogger,
  })
  const counts = lines
    .flatMap((r) => r.value!.split(' '))
    .map((w): [string, number] => [w, 1])
    .reduceByKey((a, b) => a + b)
  const totals = counts.updateStateByKey<string, number, number>((values, state) =>
    values.reduce((a, b) => a + b, state ?? 0),
  )
  totals.foreachBatch(async (rdd) => {
    await rdd.collect()
    await held?.promise
  })
  counts.foreachBatch(async (rdd, batch) => {
    await rdd.count()
    if (failNext) throw new Error(`SQLITE_BUSY: database is locked (writing the counts of batch ${batch.id})`)
  })
  const infos: BatchInfo[] = []
  ssc.addListener({ onBatchCompleted: (info) => infos.push(info) })
  stopProducing = producer(client, topic)
  await ssc.start()
  t.after(() => ssc.stop({ graceful: false }))
  return {
    ssc,
    ui,
    infos,
    hold() {
      held = Promise.withResolvers<void>()
    },
    release() {
      held?.resolve()
      held = undefined
    },
    failNext() {
      failNext = true
    },
    stopProducing,
  }
}

// biome-ignore lint/suspicious/noExplicitAny: the test reads API documents field by field
async function api<T = any>(url: string, path: string): Promise<T> {
  const response = await fetch(new URL(path, url))
  assert.equal(response.status, 200, path)
  return (await response.json()) as T
}

/** Formats `value` with the page's own format module, as the page does. */
function shown(page: Page, kind: string, value: unknown): Promise<string> {
  return page.evaluate(
    async ([module, kind, value]) => {
      const format = (await import(module as string)) as Record<string, (v: unknown) => string>
      return format[kind as string]!(value)
    },
    ['/static/format.js', kind, value] as const,
  )
}

async function text(page: Page, selector: string): Promise<string> {
  return ((await page.locator(selector).first().textContent()) ?? '').trim()
}

async function open(page: Page, url: string, path: string): Promise<void> {
  const errors: string[] = []
  page.on('pageerror', (error) => errors.push(error.message))
  await page.goto(new URL(path, url).href)
  await page.waitForSelector('body[data-loaded]')
  assert.deepEqual(errors, [], `${path} ran without script errors`)
}

test('the UI in a real browser: every page of a running job shows the API figures, updates live, and a failed batch shows its error', async (t) => {
  const job = await wordCountJob(t)
  const { url } = job.ui
  const shots = screenshotDir(t)
  const browser = await openBrowser(t)
  const page = await browser.newPage()
  const consoleErrors: string[] = []
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text())
  })

  // Run a while, then hold a batch in its output: the figures stand still while they are read.
  await until('30 completed batches', () => (job.infos.length >= 30 ? true : undefined))
  job.hold()
  await until('the held batch', async () => {
    const active = await api(url, '/api/batches?status=active')
    return active.items.some((b: { status: string; outputs: { done: number } }) => b.status === 'running')
      ? true
      : undefined
  })
  await sleep(300)

  // ---- Streaming (overview) ----
  await open(page, url, '/')
  await page.waitForSelector('[data-chart="timeline-inputRate"] canvas')
  const app = await api(url, '/api/app')
  const stats = await api(url, '/api/statistics')
  assert.equal(await text(page, '[data-field="app"]'), 'wordcount')
  assert.equal(await text(page, '[data-field="status"]'), 'active')
  assert.equal(await text(page, '[data-field="batches"]'), await shown(page, 'count', app.batches.completed))
  assert.equal(await text(page, '[data-field="records"]'), await shown(page, 'count', app.records.total))
  assert.equal(await text(page, '[data-field="lag"]'), await shown(page, 'count', app.last.lag))
  assert.equal(
    await text(page, '[data-field="input-rate"]'),
    await shown(page, 'rate', app.last.inputRecordsPerSecond),
  )
  assert.equal(
    await text(page, '[data-field="avg-processingTimeMs"]'),
    await shown(page, 'millis', stats.averages.processingTimeMs),
  )
  assert.equal(
    await text(page, '[data-field="now-stateKeys"]'),
    await shown(page, 'count', stats.stateKeys.at(-1)),
  )
  for (const chart of ['inputRate', 'schedulingDelayMs', 'processingTimeMs', 'totalDelayMs']) {
    assert.equal(await page.locator(`[data-chart="timeline-${chart}"] canvas`).count(), 1, chart)
    assert.equal(await page.locator(`[data-chart="hist-${chart}"] canvas`).count(), 1, chart)
  }
  const newest = await api(url, '/api/batches?limit=10')
  const rows = page.locator('[data-table="completed"] tbody tr')
  assert.equal(await rows.count(), 10)
  for (let i = 0; i < 10; i++) {
    const item = newest.items[i]
    const row = rows.nth(i)
    assert.equal(await row.getAttribute('data-batch'), String(item.batchId))
    assert.equal(
      ((await row.locator('[data-col="records"]').textContent()) ?? '').trim(),
      await shown(page, 'count', item.numInputRecords),
    )
    assert.equal(
      ((await row.locator('[data-col="total-delay"]').textContent()) ?? '').trim(),
      await shown(page, 'millis', item.totalDelayMs),
    )
  }
  const active = await api(url, '/api/batches?status=active')
  assert.equal(
    await page.locator('[data-table="active"] tbody tr').first().getAttribute('data-batch'),
    String(active.items[0].batchId),
  )
  await page.screenshot({ path: join(shots, 'ui-streaming.png'), fullPage: true })

  // ---- a batch ----
  const batchId = newest.items[0].batchId
  await open(page, url, `/batches/${batchId}`)
  const batch = await api(url, `/api/batches/${batchId}`)
  assert.equal(
    await text(page, '[data-field="batch-records"]'),
    await shown(page, 'count', batch.progress.numInputRecords),
  )
  assert.equal(
    await text(page, '[data-field="batch-total-delay"]'),
    await shown(page, 'millis', batch.progress.totalDelayMs),
  )
  const partitionRows = page.locator('[data-table="partitions"] tbody tr')
  assert.equal(await partitionRows.count(), 4)
  for (const p of batch.progress.sources[0].partitions) {
    const row = page.locator(`[data-table="partitions"] tr[data-partition="${p.topic}-${p.partition}"]`)
    assert.equal(
      ((await row.locator('[data-col="records"]').textContent()) ?? '').trim(),
      await shown(page, 'count', p.records),
    )
    assert.equal(
      ((await row.locator('[data-col="lag"]').textContent()) ?? '').trim(),
      await shown(page, 'offset', p.lag),
    )
  }
  assert.equal(await page.locator('[data-table="outputs"] tbody tr').count(), 2)
  await page.screenshot({ path: join(shots, 'ui-batch.png'), fullPage: true })

  // ---- partitions ----
  await open(page, url, '/partitions')
  await page.waitForSelector('[data-chart="partition-lag"] canvas')
  const partitions = await api(url, '/api/partitions')
  for (const p of partitions.partitions) {
    const row = page.locator(`[data-table="partitions"] tr[data-partition="${p.topic}-${p.partition}"]`)
    assert.equal(
      ((await row.locator('[data-col="committed"]').textContent()) ?? '').trim(),
      await shown(page, 'offset', p.committedOffset),
    )
    assert.equal(
      ((await row.locator('[data-col="latest"]').textContent()) ?? '').trim(),
      await shown(page, 'offset', p.latestOffset),
    )
    assert.equal(
      ((await row.locator('[data-col="lag"]').textContent()) ?? '').trim(),
      await shown(page, 'offset', p.lag),
    )
  }
  await page.screenshot({ path: join(shots, 'ui-partitions.png'), fullPage: true })

  // ---- batches, and live updates: release the held batch and watch the page follow ----
  await open(page, url, '/batches')
  const before = await api(url, '/api/batches?limit=25')
  assert.equal(
    await text(page, '[data-field="page-range"]'),
    `1–25 of ${await shown(page, 'count', before.total)}`,
  )
  assert.equal(
    await page.locator('[data-table="finished"] tbody tr').first().getAttribute('data-batch'),
    String(before.items[0].batchId),
  )
  await page.screenshot({ path: join(shots, 'ui-batches.png'), fullPage: true })
  job.release()
  // The page is not reloaded: its newest row changes once the events say a batch completed.
  const newestRow = page.locator('[data-table="finished"] tbody tr').first()
  await until('the page to show a newer batch', async () =>
    Number(await newestRow.getAttribute('data-batch')) > before.items[0].batchId ? true : undefined,
  )

  // ---- a failed batch shows its error ----
  job.failNext()
  await job.ssc.awaitTermination().catch(() => {})
  const failed = await api(url, '/api/batches?status=failed')
  assert.equal(failed.total, 1)
  const failure = failed.items[0]
  assert.match(failure.error.message, /SQLITE_BUSY: database is locked/)
  await open(page, url, '/batches?status=failed')
  assert.equal(await text(page, '[data-field="status"]'), 'failed')
  assert.equal(await text(page, '[data-table="finished"] [data-col="error"]'), failure.error.message)
  assert.equal(
    await text(page, '[data-field="error"]'),
    `The stream stopped on an error (${failure.error.code})Batch ${failure.batchId} failed and was not committed; a restart re-runs it. See the batch and its error →`,
  )
  await page.click('[data-field="error"] a')
  await page.waitForURL(new URL(`/batches/${failure.batchId}`, url).href)
  await page.waitForSelector('body[data-loaded]')
  assert.equal(
    await page.locator('[data-field="error"]').isHidden(),
    true,
    'the batch page shows the error once',
  )
  await open(page, url, `/batches/${failure.batchId}`)
  assert.equal(
    await text(page, '[data-field="batch-error"]'),
    `Failed: ${failure.error.code}${failure.error.message}`,
  )
  const outputs = page.locator('[data-table="outputs"] tbody tr')
  assert.equal(await outputs.count(), 2)
  assert.match((await outputs.nth(1).textContent()) ?? '', /failed.*SQLITE_BUSY/)
  await page.screenshot({ path: join(shots, 'ui-failed-batch.png'), fullPage: true })
  assert.deepEqual(consoleErrors, [])
})
