import assert from 'node:assert/strict'
import { getEventListeners } from 'node:events'
import { test } from 'node:test'
import { ErrorCodes } from '../../src/core/errors.ts'
import { silentLogger } from '../../src/core/logger.ts'
import { ManualClock } from '../../src/scheduler/manual-clock.ts'
import type { BatchInfo, FailedBatchInfo } from '../../src/stream/batch.ts'
import type { StreamingContextOptions } from '../../src/stream/context-options.ts'
import type { StreamingListener, StreamingStoppedEvent } from '../../src/stream/listener.ts'
import { StreamingContext } from '../../src/stream/streaming-context.ts'
import { BatchDriver } from '../../src/testing/batch-driver.ts'
import { FakeInput } from '../helpers/fake-input.ts'
import { recordingLogger } from '../helpers/recording-logger.ts'
import { tempDir } from '../helpers/temp-dir.ts'

const start = 1_000_000

/** A context on a ManualClock at `start`, 100 ms batches, with a driver to run its batches. */
function manualContext(appName: string, options: Partial<StreamingContextOptions> = {}) {
  const clock = (options.clock as ManualClock | undefined) ?? new ManualClock(start)
  const ssc = new StreamingContext({ appName, batchInterval: 100, logger: silentLogger, ...options, clock })
  return { ssc, clock, driver: new BatchDriver(ssc, clock) }
}

/** Records every event as a short line, plus the payloads of the interesting ones. */
function recorder() {
  const lines: string[] = []
  const completed: BatchInfo[] = []
  const failed: FailedBatchInfo[] = []
  const stopped: StreamingStoppedEvent[] = []
  const listener: StreamingListener = {
    onStreamingStarted: (e) =>
      lines.push(`started ${e.time} resume=${e.resumedFrom.map((p) => p.description)}`),
    onBatchSubmitted: (e) => lines.push(`submitted ${e.batchId} ${e.progress.status} replay=${e.replay}`),
    onBatchStarted: (e) =>
      lines.push(`batch-started ${e.batchId} at ${e.startedAt} ranges=${e.offsetRanges.join(' ')}`),
    onOutputOperationStarted: (e) => lines.push(`output-started ${e.batchId}#${e.index} ${e.name}`),
    onOutputOperationCompleted: (e) =>
      lines.push(
        `output-completed ${e.batchId}#${e.index} ${e.durationMs}ms${e.error ? ` error=${e.error.code}` : ''}`,
      ),
    onBatchCompleted: (info) => {
      lines.push(`completed ${info.id}`)
      completed.push(info)
    },
    onBatchFailed: (info) => {
      lines.push(`failed ${info.batchId}`)
      failed.push(info)
    },
    onStreamingStopped: (e) => {
      lines.push(
        `stopped graceful=${e.graceful} completed=${e.batchesCompleted}${e.error ? ` ${e.error.code}` : ''}`,
      )
      stopped.push(e)
    },
  }
  return { lines, completed, failed, stopped, listener }
}

test('listeners hear every event in order, and BatchInfo carries a plain-JSON progress record', async (t) => {
  const dir = tempDir(t, 'checkpoint')
  const { ssc, driver } = manualContext('events', { checkpoint: dir })
  const input = new FakeInput(ssc, { partitions: 1, perBatch: 3 })
  input.foreachBatch(async (rdd) => {
    await rdd.collect()
  })
  input.map((x) => x + 1).print(1, { write: () => {} })
  const events = recorder()
  ssc.addListener(events.listener)
  await ssc.start()
  await driver.run(2)
  await ssc.stop()

  assert.deepEqual(events.lines, [
    `started ${start} resume=fake-0 @ 0`,
    'submitted 0 submitted replay=false',
    `batch-started 0 at ${start} ranges=fake-0 [0, 3)`,
    'output-started 0#0 foreachBatch',
    'output-completed 0#0 0ms',
    'output-started 0#1 print',
    'output-completed 0#1 0ms',
    'completed 0',
    'submitted 1 submitted replay=false',
    `batch-started 1 at ${start + 100} ranges=fake-0 [3, 6)`,
    'output-started 1#0 foreachBatch',
    'output-completed 1#0 0ms',
    'output-started 1#1 print',
    'output-completed 1#1 0ms',
    'completed 1',
    'stopped graceful=true completed=2',
  ])
  const progress = events.completed[1]!.progress
  assert.deepEqual(JSON.parse(JSON.stringify(progress)), progress, 'the progress record is plain JSON')
  assert.deepEqual(progress, {
    app: 'events',
    batchId: 1,
    batchTime: new Date(start + 100).toISOString(),
    batchTimeMs: start + 100,
    replay: false,
    status: 'completed',
    numInputRecords: 3,
    inputRecordsPerSecond: 30,
    processedRecordsPerSecond: 0,
    schedulingDelayMs: 0,
    processingTimeMs: 0,
    totalDelayMs: 0,
    durationsMs: { planning: 0, outputs: 0, commit: 0 },
    outputs: [
      { index: 0, name: 'foreachBatch', durationMs: 0 },
      { index: 1, name: 'print', durationMs: 0 },
    ],
    sources: [
      {
        input: 'fake-fake',
        kind: 'fake',
        description: 'fake-0 [3, 6)',
        rateLimit: null,
        numInputRecords: 3,
        lostRecords: 0,
        partitions: [
          {
            topic: 'fake',
            partition: 0,
            fromOffset: '3',
            untilOffset: '6',
            latestOffset: null,
            lag: null,
            records: 3,
          },
        ],
      },
    ],
    lostRecords: 0,
    skippedRecords: 0,
    deadLetteredRecords: 0,
    state: { keys: 0, bytes: 0 },
  })
  const info = events.completed[1]!
  assert.equal(info.records, 3)
  assert.equal(info.totalDelay, 0)
  assert.equal(info.startedAt, start + 100)
  assert.deepEqual(info.lostRanges, [])
})

test('on a ManualClock, batches are due at start + k * interval; late batches record their delay and none is skipped', async () => {
  const { ssc, clock, driver } = manualContext('delays')
  const input = new FakeInput(ssc, { partitions: 1, perBatch: 1 })
  input.foreachBatch((_rdd, batch) => {
    // Batch 0 takes 250 ms: batches 1 and 2 are overdue when it ends, batch 3 is not.
    if (batch.id === 0) clock.advance(250)
  })
  await ssc.start()
  const infos = await driver.run(4)
  await ssc.stop()
  assert.deepEqual(
    infos.map((i) => [i.id, i.time - start, i.schedulingDelay, i.processingTime, i.totalDelay]),
    [
      [0, 0, 0, 250, 250],
      [1, 100, 150, 0, 150],
      [2, 200, 50, 0, 50],
      [3, 300, 0, 0, 0],
    ],
  )
  assert.deepEqual(
    infos.map((i) => i.progress.durationsMs),
    [
      { planning: 0, outputs: 250, commit: 0 },
      ...[1, 2, 3].map(() => ({ planning: 0, outputs: 0, commit: 0 })),
    ],
  )
})

test('a failed batch is reported with its progress, then the stream stops with the error', async () => {
  const { ssc, driver } = manualContext('fails')
  const input = new FakeInput(ssc, { partitions: 1, perBatch: 2 })
  input.foreachBatch((_rdd, batch) => {
    if (batch.id === 1) throw new Error('the sink is down')
  })
  const events = recorder()
  ssc.addListener(events.listener)
  await ssc.start()
  await driver.next()
  await assert.rejects(driver.next(), { code: ErrorCodes.BATCH_FAILED })
  await assert.rejects(ssc.awaitTermination(), { code: ErrorCodes.BATCH_FAILED })
  assert.deepEqual(events.lines.slice(-4), [
    'output-started 1#0 foreachBatch',
    'output-completed 1#0 0ms error=SLUICE_BATCH_FAILED',
    'failed 1',
    'stopped graceful=false completed=1 SLUICE_BATCH_FAILED',
  ])
  const [failed] = events.failed
  assert.equal(failed?.batchId, 1)
  assert.equal(failed.batchTime, start + 100)
  assert.equal(failed.error, events.stopped[0]!.error)
  assert.equal(failed.progress.status, 'failed')
  assert.deepEqual(failed.progress.error, { code: ErrorCodes.BATCH_FAILED, message: failed.error.message })
  assert.match(failed.progress.outputs[0]!.error!, /the sink is down/)
  assert.equal(failed.progress.numInputRecords, 2)
})

test('one INFO line per batch, and lines for started, recovered and stopped', async (t) => {
  const dir = tempDir(t, 'checkpoint')
  const run = async (batches: number, failAt?: number) => {
    const { logger, entries } = recordingLogger()
    const { ssc, driver } = manualContext('logs', { checkpoint: dir, logger })
    new FakeInput(ssc, { partitions: 2, perBatch: 4 }).foreachBatch((_rdd, batch) => {
      if (batch.id === failAt) throw new Error('down')
    })
    await ssc.start()
    await driver.run(batches).catch(() => {})
    await ssc.stop()
    await ssc.awaitTermination().catch(() => {})
    return entries.filter((e) => e.level !== 'debug')
  }
  const first = await run(2, 1)
  const pick = (entry: Record<string, unknown>, ...keys: string[]) =>
    Object.fromEntries(keys.filter((k) => k in entry).map((k) => [k, entry[k]]))
  assert.deepEqual(
    first.map((e) => e.msg),
    ['created checkpoint directory', 'stream started', 'batch completed', 'stream stopped by a failure'],
  )
  assert.deepEqual(pick(first[1]!, 'level', 'app', 'resumedFrom'), {
    level: 'info',
    app: 'logs',
    resumedFrom: [{ input: 'fake-fake', from: 'fake-0 @ 0, fake-1 @ 0 (new: from its starting options)' }],
  })
  assert.deepEqual(
    pick(
      first[2]!,
      'level',
      'batchId',
      'records',
      'schedulingDelayMs',
      'processingTimeMs',
      'totalDelayMs',
      'lag',
      'rateLimit',
    ),
    {
      level: 'info',
      batchId: 0,
      records: 8,
      schedulingDelayMs: 0,
      processingTimeMs: 0,
      totalDelayMs: 0,
      lag: null,
    },
  )
  assert.equal(first[3]!.level, 'error')
  assert.match(
    String((first[3]!.error as { message: string }).message),
    /batch 1 .* failed in output operation #1/,
  )

  // The replay, then the first new batch, due as soon as the replay is done.
  const second = await run(2)
  assert.deepEqual(
    second.map((e) => e.msg),
    [
      'recovered from the checkpoint',
      'stream started',
      'batch completed',
      'batch completed',
      'stream stopped',
    ],
  )
  assert.deepEqual(pick(second[0]!, 'pendingBatchId', 'recomputedBatches'), {
    pendingBatchId: 1,
    recomputedBatches: 0,
  })
  assert.deepEqual(pick(second[2]!, 'batchId', 'replay', 'records'), { batchId: 1, replay: true, records: 8 })
  assert.deepEqual(pick(second[3]!, 'batchId', 'replay', 'records'), { batchId: 2, records: 8 })
  assert.deepEqual(pick(second[4]!, 'level', 'graceful', 'batchesCompleted'), {
    level: 'info',
    graceful: true,
    batchesCompleted: 2,
  })
})

test('ssc.stop() from inside an output operation stops after that batch instead of waiting for itself', async (t) => {
  const dir = tempDir(t, 'checkpoint')
  const { ssc, driver } = manualContext('self-stop', { checkpoint: dir })
  const seen: number[] = []
  new FakeInput(ssc).foreachBatch(async (_rdd, batch) => {
    seen.push(batch.id)
    if (batch.id === 1) await ssc.stop()
  })
  await ssc.start()
  await driver.run(2)
  await ssc.awaitTermination()
  assert.equal(ssc.state, 'stopped')
  assert.deepEqual(seen, [0, 1])
  const { readdir } = await import('node:fs/promises')
  assert.deepEqual(
    (await readdir(`${dir}/commits`)).sort(),
    ['0', '1'],
    'batch 1 committed; nothing planned after it',
  )
  assert.deepEqual((await readdir(`${dir}/offsets`)).sort(), ['0', '1'])
})

test('a graceful stop that outlasts stopTimeout abandons the batch uncommitted, and a restart re-runs it', async (t) => {
  const dir = tempDir(t, 'checkpoint')
  const { logger, entries } = recordingLogger()
  const { ssc, clock, driver } = manualContext('slow-stop', { checkpoint: dir, logger, stopTimeout: 50 })
  const events = recorder()
  ssc.addListener(events.listener)
  const entered = Promise.withResolvers<void>()
  new FakeInput(ssc).foreachBatch(async (_rdd, batch) => {
    if (batch.id !== 1) return
    entered.resolve()
    await new Promise(() => {}) // an output that never ends and ignores batch.signal
  })
  await ssc.start()
  await driver.next()
  void driver.next().catch(() => {})
  await entered.promise
  await ssc.stop()
  await ssc.awaitTermination()
  assert.deepEqual(
    events.stopped.map((e) => [e.graceful, e.batchesCompleted, e.error]),
    [[false, 1, undefined]],
  )
  assert.ok(
    entries.some(
      (e) => e.msg === 'a graceful stop timed out: abandoning the running batch (a restart re-runs it)',
    ),
  )
  const { readdir } = await import('node:fs/promises')
  assert.deepEqual(await readdir(`${dir}/commits`), ['0'])

  const restarted = manualContext('slow-stop', { checkpoint: dir, clock })
  const replayed: [number, boolean][] = []
  new FakeInput(restarted.ssc).foreachBatch((_rdd, batch) => {
    replayed.push([batch.id, batch.replay])
  })
  await restarted.ssc.start()
  await restarted.driver.run(2)
  await restarted.ssc.stop()
  assert.deepEqual(replayed, [
    [1, true],
    [2, false],
  ])
})

test('a long run adds no listener per batch to anything that lives as long as the context', async () => {
  const { ssc, driver } = manualContext('many-batches')
  const listenersDuringBatches: number[] = []
  new FakeInput(ssc, { partitions: 1, perBatch: 1 }).foreachBatch(async (rdd, batch) => {
    assert.equal(batch.signal.aborted, false)
    await rdd.collect()
    listenersDuringBatches.push(getEventListeners(ssc.batchSignal(), 'abort').length)
  })
  await ssc.start()
  await driver.run(30)
  await ssc.stop()
  // Between batches the context's own stop signal holds no listener left by a batch.
  assert.equal(getEventListeners(ssc.batchSignal(), 'abort').length, 0)
  assert.ok(Math.max(...listenersDuringBatches) <= 2, `batch signals hold ${listenersDuringBatches}`)
})
