import assert from 'node:assert/strict'
import { channel } from 'node:diagnostics_channel'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { Registry } from 'prom-client'
import { silentLogger } from '../../src/core/logger.ts'
import { SluiceMetrics } from '../../src/observe/metrics.ts'
import { createFileSink } from '../../src/sinks/file-sink.ts'
import { sinkBatchChannelName } from '../../src/sinks/sink-diagnostics.ts'
import { parsePrometheusText, samples, sampleValue } from './prometheus-text.ts'
import { syntheticFailure, syntheticInfo } from './synthetic.ts'

async function scrape(registry: Registry) {
  return parsePrometheusText(await registry.metrics())
}

test('counters of a job appear at 0 before its first batch', async () => {
  const registry = new Registry()
  const { stop } = SluiceMetrics.of(registry).listen('wc')
  const families = await scrape(registry)
  for (const name of [
    'sluice_records_total',
    'sluice_batches_completed_total',
    'sluice_batches_failed_total',
    'sluice_batches_replayed_total',
    'sluice_records_lost_total',
    'sluice_records_skipped_total',
    'sluice_records_dead_lettered_total',
  ]) {
    assert.equal(families.get(name)?.type, 'COUNTER', name)
    assert.equal(sampleValue(families, name, { app: 'wc' }), 0, name)
  }
  await stop()
})

test('completed batches set the gauges, add to the counters and fill the histograms', async () => {
  const registry = new Registry()
  const { listener, stop } = SluiceMetrics.of(registry).listen('wc')
  listener.onBatchCompleted?.(
    syntheticInfo({
      app: 'wc',
      batchId: 0,
      perPartition: [10, 20],
      lag: [5, 0],
      processingTimeMs: 300,
      replay: true,
    }),
  )
  listener.onBatchCompleted?.(
    syntheticInfo({
      app: 'wc',
      batchId: 1,
      perPartition: [7, 8],
      lag: [1, null],
      schedulingDelayMs: 40,
      processingTimeMs: 1500,
      rateLimit: 250,
      lostRecords: 3,
      skippedRecords: 2,
      deadLetteredRecords: 1,
      state: { keys: 12, bytes: 3400 },
    }),
  )
  const f = await scrape(registry)
  const app = { app: 'wc' }
  assert.equal(sampleValue(f, 'sluice_batch_records', app), 15)
  assert.equal(sampleValue(f, 'sluice_records_total', app), 45)
  assert.equal(sampleValue(f, 'sluice_batches_completed_total', app), 2)
  assert.equal(sampleValue(f, 'sluice_batches_replayed_total', app), 1)
  assert.equal(sampleValue(f, 'sluice_records_lost_total', app), 3)
  assert.equal(sampleValue(f, 'sluice_records_skipped_total', app), 2)
  assert.equal(sampleValue(f, 'sluice_records_dead_lettered_total', app), 1)
  assert.equal(sampleValue(f, 'sluice_input_rate_records_per_second', app), 15)
  assert.equal(sampleValue(f, 'sluice_rate_limit_records_per_second', { app: 'wc', input: 'words' }), 250)
  assert.equal(sampleValue(f, 'sluice_state_keys', app), 12)
  assert.equal(sampleValue(f, 'sluice_state_bytes', app), 3400)
  const partition = (p: number) => ({ app: 'wc', input: 'words', topic: 'words', partition: String(p) })
  // Batch 1 read [7, 14) of partition 0 and [8, 16) of partition 1.
  assert.equal(sampleValue(f, 'sluice_partition_committed_offset', partition(0)), 14)
  assert.equal(sampleValue(f, 'sluice_partition_committed_offset', partition(1)), 16)
  assert.equal(sampleValue(f, 'sluice_partition_latest_offset', partition(0)), 15)
  assert.equal(sampleValue(f, 'sluice_partition_lag', partition(0)), 1)
  // Partition 1's latest offset was unknown in batch 1: the gauges keep batch 0's values.
  assert.equal(sampleValue(f, 'sluice_partition_lag', partition(1)), 0)
  assert.equal(sampleValue(f, 'sluice_partition_latest_offset', partition(1)), 20)
  const total = f.get('sluice_batch_total_delay_seconds')
  assert.equal(total?.type, 'HISTOGRAM')
  // One series per histogram here, so the parser's buckets are exact (see prometheus-text.ts).
  assert.deepEqual(
    Object.fromEntries(
      Object.entries(total?.metrics[0]?.buckets ?? {}).filter(([le]) =>
        ['0.25', '0.5', '1', '2.5', '+Inf'].includes(le),
      ),
    ),
    { '0.25': '0', '0.5': '1', '1': '1', '2.5': '2', '+Inf': '2' },
  )
  const outputs = f.get('sluice_output_duration_seconds')?.metrics[0]?.buckets ?? {}
  assert.equal(outputs['+Inf'], '2')
  assert.equal(outputs['0.25'], '0')
  assert.equal(outputs['0.5'], '1')
  await stop()
})

test('an unlimited batch removes the rate-limit series; a failed batch counts as failed', async () => {
  const registry = new Registry()
  const { listener, stop } = SluiceMetrics.of(registry).listen('wc')
  listener.onBatchCompleted?.(syntheticInfo({ app: 'wc', batchId: 0, rateLimit: 100 }))
  listener.onBatchCompleted?.(syntheticInfo({ app: 'wc', batchId: 1, rateLimit: null }))
  listener.onBatchFailed?.(syntheticFailure({ app: 'wc', batchId: 2 }, 'boom'))
  const f = await scrape(registry)
  assert.deepEqual(samples(f, 'sluice_rate_limit_records_per_second'), [])
  assert.equal(sampleValue(f, 'sluice_batches_failed_total', { app: 'wc' }), 1)
  assert.equal(sampleValue(f, 'sluice_batches_completed_total', { app: 'wc' }), 2)
  await stop()
})

test('sink outcomes published on the diagnostics channel are counted per sink and outcome', async () => {
  const registry = new Registry()
  const { stop } = SluiceMetrics.of(registry).listen('wc')
  const sinkBatches = channel(sinkBatchChannelName)
  const publish = (sink: string, outcome: string) =>
    sinkBatches.publish({ app: 'wc', sink, batchId: 1, outcome, durationMs: 3 })
  publish('sql', 'applied')
  publish('sql', 'applied')
  publish('sql', 'already-applied')
  publish('kafka', 'fenced')
  sinkBatches.publish({ nonsense: true })
  let f = await scrape(registry)
  assert.deepEqual(
    samples(f, 'sluice_sink_transactions_total')
      .map((s) => `${s.labels.sink}/${s.labels.outcome}=${s.value}`)
      .sort(),
    ['kafka/fenced=1', 'sql/already-applied=1', 'sql/applied=2'],
  )
  await stop()
  // Once no job listens, the channel is left alone.
  publish('sql', 'applied')
  f = await scrape(registry)
  assert.equal(sampleValue(f, 'sluice_sink_transactions_total', { sink: 'sql', outcome: 'applied' }), 2)
})

test("a real file sink's outcomes reach sluice_sink_transactions_total: applied, then fenced for a zombie", async (t) => {
  const registry = new Registry()
  const { stop } = SluiceMetrics.of(registry).listen('wc')
  t.after(stop)
  const dir = mkdtempSync(join(tmpdir(), 'sluice-metrics-sink-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const batch = (id: number) => ({
    id,
    time: 0,
    replay: false,
    offsetRanges: [{ topic: 'words', partition: 0, fromOffset: BigInt(id), untilOffset: BigInt(id + 1) }],
  })
  const write = async (writer: { write(value: unknown): void }) => writer.write({ word: 'a', count: 1 })
  const first = createFileSink({ app: 'wc', dir, logger: silentLogger })
  await first.start()
  assert.equal(await first.writeBatch(batch(0), write), 'applied')
  assert.equal(await first.writeBatch(batch(1), write), 'applied')
  // A second instance takes the directory over: the first is a zombie from now on.
  await createFileSink({ app: 'wc', dir, logger: silentLogger }).start()
  await assert.rejects(first.writeBatch(batch(2), write), { code: 'SLUICE_FENCED' })
  const f = await scrape(registry)
  assert.equal(
    sampleValue(f, 'sluice_sink_transactions_total', { app: 'wc', sink: 'file', outcome: 'applied' }),
    2,
  )
  assert.equal(
    sampleValue(f, 'sluice_sink_transactions_total', { app: 'wc', sink: 'file', outcome: 'fenced' }),
    1,
  )
})

test("two jobs share a registry's metrics by app label; a stopped job's gauges go, its counters stay", async () => {
  const registry = new Registry()
  const metrics = SluiceMetrics.of(registry)
  assert.equal(SluiceMetrics.of(registry), metrics)
  const a = metrics.listen('a')
  const b = metrics.listen('b')
  a.listener.onBatchCompleted?.(syntheticInfo({ app: 'a', batchId: 0, perPartition: [1] }))
  b.listener.onBatchCompleted?.(syntheticInfo({ app: 'b', batchId: 0, perPartition: [2, 2] }))
  let f = await scrape(registry)
  assert.equal(sampleValue(f, 'sluice_batch_records', { app: 'a' }), 1)
  assert.equal(sampleValue(f, 'sluice_batch_records', { app: 'b' }), 4)
  await a.stop()
  a.listener.onBatchCompleted?.(syntheticInfo({ app: 'a', batchId: 1, perPartition: [1] }))
  f = await scrape(registry)
  assert.equal(sampleValue(f, 'sluice_batch_records', { app: 'a' }), undefined)
  assert.equal(sampleValue(f, 'sluice_partition_lag', { app: 'a' }), undefined)
  assert.equal(sampleValue(f, 'sluice_records_total', { app: 'a' }), 1)
  assert.equal(sampleValue(f, 'sluice_batch_records', { app: 'b' }), 4)
  await b.stop()
})
