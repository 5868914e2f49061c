import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { ErrorCodes, type SluiceError } from '../../src/core/errors.ts'
import { silentLogger } from '../../src/core/logger.ts'
import type { Batch, BatchInfo } from '../../src/stream/batch.ts'
import { StreamingContext } from '../../src/stream/streaming-context.ts'
import { eventually as until } from '../helpers/eventually.ts'
import { FakeInput, rangesOfPlan } from '../helpers/fake-input.ts'
import { tempDir } from '../helpers/temp-dir.ts'

function context(options: { checkpoint?: string; batchInterval?: number } = {}) {
  return new StreamingContext({
    appName: 'ctx-test',
    batchInterval: options.batchInterval ?? 20,
    logger: silentLogger,
    ...(options.checkpoint ? { checkpoint: options.checkpoint } : {}),
  })
}

test('batches are due at start + k * interval, run one at a time, and record their delays', async () => {
  const ssc = context({ batchInterval: 30 })
  const input = new FakeInput(ssc)
  const infos: BatchInfo[] = []
  ssc.addListener({ onBatchCompleted: (info) => infos.push(info) })
  let running = 0
  let maxRunning = 0
  input.foreachBatch(async (_rdd, batch) => {
    running++
    maxRunning = Math.max(maxRunning, running)
    // Batch 2 overruns three intervals: batches 3.. start late, and catch up without drift.
    if (batch.id === 2) await sleep(100)
    running--
  })
  await ssc.start()
  await until(() => infos.length >= 8, '8 batches')
  await ssc.stop()
  assert.equal(maxRunning, 1)
  const start = infos[0]!.time
  assert.deepEqual(
    infos.map((i) => i.time - start),
    infos.map((_, k) => 30 * k),
  )
  assert.ok(infos[3]!.schedulingDelay >= 40, `batch 3 started late: ${infos[3]!.schedulingDelay} ms`)
  // Whole-millisecond clocks at both ends of a 100 ms sleep can read 99.
  assert.ok(infos[2]!.processingTime >= 99, `batch 2 took ${infos[2]!.processingTime} ms`)
  assert.deepEqual(
    infos.map((i) => i.records),
    infos.map(() => 10),
  )
})

test('a failing output operation stops the stream naming the batch and its ranges; a restart replays it exactly', async (t) => {
  const dir = tempDir(t)
  const first = context({ checkpoint: dir })
  const input = new FakeInput(first)
  const seen: Batch[] = []
  input.foreachBatch(async (rdd, batch) => {
    seen.push(batch)
    if (batch.id === 2) throw new Error('the sink is down')
    await rdd.collect()
  })
  await first.start()
  await assert.rejects(first.awaitTermination(), (error: SluiceError) => {
    assert.equal(error.code, ErrorCodes.BATCH_FAILED)
    assert.equal(
      error.message,
      `batch 2 (time ${seen[2]!.time}) failed in output operation #1 (foreachBatch): the sink is down. ` +
        'It was not committed; a restart re-runs its ranges: fake-0 [10, 15), fake-1 [10, 15)',
    )
    return true
  })
  assert.equal(first.state, 'stopped')
  assert.deepEqual(readdirSync(join(dir, 'commits')).sort(), ['0', '1'])

  const second = context({ checkpoint: dir })
  const again = new FakeInput(second)
  const replayed: Batch[] = []
  const values: number[][] = []
  again.foreachBatch(async (rdd, batch) => {
    replayed.push(batch)
    values.push(await rdd.collect())
  })
  await second.start()
  await until(() => replayed.length >= 2, 'two batches')
  await second.stop()
  assert.deepEqual(rangesOfPlan(again.opened[0]?.lastPlan).map(String), [
    'fake-0 [10, 15)',
    'fake-1 [10, 15)',
  ])
  assert.equal(replayed[0]!.id, 2)
  assert.equal(replayed[0]!.replay, true)
  assert.equal(replayed[0]!.time, seen[2]!.time)
  assert.deepEqual(replayed[0]!.offsetRanges.map(String), seen[2]!.offsetRanges.map(String))
  assert.deepEqual(values[0], [10, 11, 12, 13, 14, 1_000_010, 1_000_011, 1_000_012, 1_000_013, 1_000_014])
  assert.equal(replayed[1]!.id, 3)
  assert.equal(replayed[1]!.replay, false)
  assert.deepEqual(replayed[1]!.offsetRanges.map(String), ['fake-0 [15, 20)', 'fake-1 [15, 20)'])
})

test('a graceful stop finishes and commits the running batch; the next start continues after it', async (t) => {
  const dir = tempDir(t)
  const ssc = context({ checkpoint: dir })
  const input = new FakeInput(ssc)
  let entered = false
  let finished = false
  input.foreachBatch(async (_rdd, batch) => {
    if (batch.id !== 1) return
    entered = true
    await sleep(150)
    finished = true
  })
  await ssc.start()
  await until(() => entered, 'batch 1 to start')
  await ssc.stop({ graceful: true })
  assert.equal(finished, true)
  assert.deepEqual(readdirSync(join(dir, 'commits')).sort(), ['0', '1'])

  const next = context({ checkpoint: dir })
  const resumed = new FakeInput(next)
  const batches: Batch[] = []
  resumed.foreachBatch((_rdd, batch) => {
    batches.push(batch)
  })
  await next.start()
  await until(() => batches.length >= 1, 'a batch')
  await next.stop()
  assert.equal(batches[0]!.id, 2)
  assert.equal(batches[0]!.replay, false)
  assert.deepEqual(batches[0]!.offsetRanges.map(String), ['fake-0 [10, 15)', 'fake-1 [10, 15)'])
})

test('a forced stop abandons the running batch uncommitted, and it is replayed on restart', async (t) => {
  const dir = tempDir(t)
  const ssc = context({ checkpoint: dir })
  const input = new FakeInput(ssc)
  let entered = false
  input.foreachBatch(async (_rdd, batch) => {
    if (batch.id !== 1) return
    entered = true
    await sleep(5_000)
  })
  await ssc.start()
  await until(() => entered, 'batch 1 to start')
  const stopping = Date.now()
  await ssc.stop({ graceful: false })
  assert.ok(Date.now() - stopping < 4_000, 'did not wait for the batch')
  await ssc.awaitTermination()
  assert.deepEqual(readdirSync(join(dir, 'commits')), ['0'])

  const next = context({ checkpoint: dir })
  const again = new FakeInput(next)
  const batches: Batch[] = []
  again.foreachBatch((_rdd, batch) => {
    batches.push(batch)
  })
  await next.start()
  await until(() => batches.length >= 1, 'a batch')
  await next.stop()
  assert.equal(batches[0]!.id, 1)
  assert.equal(batches[0]!.replay, true)
})

test('start needs an output operation; streams cannot be added once started; start twice fails', async () => {
  const ssc = context()
  const input = new FakeInput(ssc)
  await assert.rejects(ssc.start(), /no output operation: call foreachBatch\(\) or print\(\)/)
  const ssc2 = context()
  const input2 = new FakeInput(ssc2)
  input2.foreachBatch(() => {})
  await ssc2.start()
  assert.throws(() => input2.map((x) => x), /cannot create a stream after the StreamingContext started/)
  assert.throws(() => input2.foreachBatch(() => {}), /after the StreamingContext started/)
  await assert.rejects(ssc2.start(), /was already started/)
  await ssc2.stop()
  void input
})

test('invalid context options fail at construction naming the option', () => {
  const invalid = (options: object, message: string) =>
    assert.throws(
      () => new StreamingContext(options as never),
      (e: SluiceError) => e.code === ErrorCodes.INVALID_OPTION && e.message === message,
    )
  const P = 'new StreamingContext: '
  invalid({ batchInterval: 100 }, `${P}option 'appName' is required (a non-empty string)`)
  invalid(
    { appName: 'a', batchInterval: 0 },
    `${P}option 'batchInterval' must be at least 1 (milliseconds), got 0`,
  )
  invalid(
    { appName: 'a', batchInterval: 1.5 },
    `${P}option 'batchInterval' must be an integer (milliseconds), got a number (1.5)`,
  )
  invalid(
    { appName: 'a', batchInterval: '1000' },
    `${P}option 'batchInterval' must be a number, got a string ("1000")`,
  )
  invalid(
    { appName: 'a', batchInterval: 2 ** 31 },
    `${P}option 'batchInterval' must be at most 2147483647 (milliseconds): the longest delay a Node.js timer honours, got 2147483648`,
  )
  invalid(
    { appName: 'a', batchInterval: 10, checkpoint: '' },
    `${P}option 'checkpoint' must be a directory path, got a string ("")`,
  )
  invalid(
    { appName: 'a', batchInterval: 10, checkpointDir: './ckpt' },
    `${P}unknown option 'checkpointDir' — did you mean 'checkpoint'?`,
  )
  invalid(
    { appName: 'a', batchInterval: 10, stopOnSignals: 'yes' },
    `${P}option 'stopOnSignals' must be a boolean, got a string ("yes")`,
  )
  invalid(
    { appName: 'a', batchInterval: 10, taskConcurrency: 0 },
    `${P}option 'taskConcurrency' must be at least 1, got 0`,
  )
  invalid(
    { appName: 'a', batchInterval: 10, maxTaskAttempts: 0 },
    `${P}option 'maxTaskAttempts' must be at least 1, got 0`,
  )
})

test('a checkpoint of another application or held by a live context is refused at start', async (t) => {
  const dir = tempDir(t)
  const first = context({ checkpoint: dir })
  new FakeInput(first).foreachBatch(() => {})
  await first.start()
  const second = context({ checkpoint: dir })
  new FakeInput(second).foreachBatch(() => {})
  await assert.rejects(second.start(), (e: SluiceError) => e.code === ErrorCodes.CHECKPOINT_LOCKED)
  await assert.rejects(second.awaitTermination(), (e: SluiceError) => e.code === ErrorCodes.CHECKPOINT_LOCKED)
  await first.stop()
  const other = new StreamingContext({
    appName: 'someone-else',
    batchInterval: 20,
    checkpoint: dir,
    logger: silentLogger,
  })
  new FakeInput(other).foreachBatch(() => {})
  await assert.rejects(
    other.start(),
    (e: SluiceError) => e.code === ErrorCodes.CHECKPOINT && /ctx-test/.test(e.message),
  )
})

test('DStream operations: map, filter, flatMap, union, reduceByKey, countByValue, count, transform, print', async () => {
  const ssc = context()
  const a = new FakeInput(ssc, { topic: 'a', partitions: 1, perBatch: 4 })
  const b = new FakeInput(ssc, { topic: 'b', partitions: 1, perBatch: 2 })
  const results = new Map<string, unknown[]>()
  const keep = (name: string) => async (rdd: { collect(): Promise<unknown[]> }, batch: Batch) => {
    if (batch.id === 0) results.set(name, await rdd.collect())
  }
  a.map((x) => x * 10).foreachBatch(keep('map'))
  a.filter((x) => x % 2 === 0).foreachBatch(keep('filter'))
  a.flatMap((x) => [x, x]).foreachBatch(keep('flatMap'))
  a.union(b).foreachBatch(keep('union'))
  a.map((x): [string, number] => [x % 2 === 0 ? 'even' : 'odd', x])
    .reduceByKey((p, q) => p + q)
    .foreachBatch(keep('reduceByKey'))
  a.map((x) => x % 2)
    .countByValue()
    .foreachBatch(keep('countByValue'))
  a.count().foreachBatch(keep('count'))
  a.transform((rdd) => rdd.map((x) => -x)).foreachBatch(keep('transform'))
  const printed: string[] = []
  a.print(2, { write: (text) => printed.push(text) })
  await ssc.start()
  await until(() => results.size === 8 && printed.length > 0, 'all outputs of batch 0')
  await ssc.stop()
  assert.deepEqual(results.get('map'), [0, 10, 20, 30])
  assert.deepEqual(results.get('filter'), [0, 2])
  assert.deepEqual(results.get('flatMap'), [0, 0, 1, 1, 2, 2, 3, 3])
  assert.deepEqual(results.get('union'), [0, 1, 2, 3, 0, 1])
  assert.deepEqual(
    new Map(results.get('reduceByKey') as [string, number][]),
    new Map([
      ['even', 2],
      ['odd', 4],
    ]),
  )
  assert.deepEqual(
    new Map(results.get('countByValue') as [number, number][]),
    new Map([
      [0, 2],
      [1, 2],
    ]),
  )
  assert.deepEqual(results.get('count'), [4])
  assert.deepEqual(results.get('transform'), [-0, -1, -2, -3])
  assert.match(printed[0]!, /^-+\nBatch 0, time: \d+ ms\n-+\n0\n1\n\.\.\.\n\n$/)
})

test('print shows records readably: bigint offsets as numbers, buffers as text', async () => {
  const ssc = context()
  const input = new FakeInput(ssc, { partitions: 1, perBatch: 1 })
  const printed: string[] = []
  input
    .map((n) => ({ offset: BigInt(n), value: Buffer.from(`v${n}`) }))
    .print(1, { write: (text) => printed.push(text) })
  await ssc.start()
  await until(() => printed.length > 0, 'a printed batch')
  await ssc.stop()
  assert.match(printed[0]!, /\n\{"offset":"0","value":"v0"\}\n/)
})

test('a listener that throws or rejects is logged and never stops a healthy stream', async () => {
  const ssc = context()
  const input = new FakeInput(ssc)
  const completed: number[] = []
  ssc.addListener({
    onBatchCompleted: () => {
      throw new Error('listener bug')
    },
  })
  ssc.addListener({ onBatchCompleted: async () => Promise.reject(new Error('async listener bug')) })
  ssc.addListener({ onBatchCompleted: (info) => completed.push(info.id) })
  input.foreachBatch(() => {})
  await ssc.start()
  await until(() => completed.length >= 3, 'three batches past the throwing listener')
  assert.equal(ssc.state, 'active')
  await ssc.stop()
  await ssc.awaitTermination()
  assert.deepEqual(completed.slice(0, 3), [0, 1, 2])
})
