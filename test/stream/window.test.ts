import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes, isSluiceError } from '../../src/core/errors.ts'
import { type Logger, silentLogger } from '../../src/core/logger.ts'
import { StreamingContext } from '../../src/stream/streaming-context.ts'
import { recordingLogger } from '../helpers/recording-logger.ts'
import { tempDir } from '../helpers/temp-dir.ts'
import { runThrough, SyntheticInput, sorted } from './support.ts'

const partitions = 2
const perBatch = 3
const available = 30 // 10 batches of data (0..9), then empty batches
const word = (partition: number, offset: number) => `w${(partition * 7 + offset) % 5}`

function context(options: { checkpoint?: string; logger?: Logger } = {}) {
  return new StreamingContext({
    appName: 'windows',
    batchInterval: 10,
    logger: options.logger ?? silentLogger,
    ...(options.checkpoint === undefined ? {} : { checkpoint: options.checkpoint }),
  })
}

function input(ssc: StreamingContext) {
  return new SyntheticInput(ssc, { partitions, perBatch, available, record: word })
}

/** The words of batches from…to (clipped at 0), as the synthetic input defines them. */
function wordsOf(from: number, to: number): string[] {
  const words: string[] = []
  for (let b = Math.max(0, from); b <= to; b++) {
    for (let p = 0; p < partitions; p++) {
      for (let o = b * perBatch; o < Math.min((b + 1) * perBatch, available); o++) words.push(word(p, o))
    }
  }
  return words
}

function counts(words: readonly string[]): [string, number][] {
  const map = new Map<string, number>()
  for (const w of words) map.set(w, (map.get(w) ?? 0) + 1)
  return sorted([...map])
}

test('window(length, slide) emits every slide the union of the batches in the window, clipped at batch 0', async () => {
  const ssc = context()
  const seen = new Map<number, string[]>()
  input(ssc)
    .window(40, 20) // 4 batches, every 2 batches
    .foreachBatch(async (rdd, batch) => {
      seen.set(batch.id, (await rdd.collect()).sort())
    })
  await runThrough(ssc, 13)
  assert.deepEqual([...seen.keys()], [1, 3, 5, 7, 9, 11, 13])
  for (const [id, words] of seen) assert.deepEqual(words, wordsOf(id - 3, id).sort(), `window at batch ${id}`)
})

test('reduceByWindow and countByWindow give one element per window', async () => {
  const ssc = context()
  const stream = input(ssc).map((w) => Number(w.slice(1)))
  const sums = new Map<number, number[]>()
  const countsSeen = new Map<number, number[]>()
  stream
    .reduceByWindow((a, b) => a + b, 30)
    .foreachBatch(async (rdd, batch) => {
      sums.set(batch.id, await rdd.collect())
    })
  stream.countByWindow(30, 10).foreachBatch(async (rdd, batch) => {
    countsSeen.set(batch.id, await rdd.collect())
  })
  await runThrough(ssc, 14)
  for (let id = 0; id <= 14; id++) {
    const words = wordsOf(id - 2, id)
    const sum = words.reduce((total, w) => total + Number(w.slice(1)), 0)
    assert.deepEqual(sums.get(id), words.length === 0 ? [] : [sum], `sum at batch ${id}`)
    assert.deepEqual(countsSeen.get(id), [words.length], `count at batch ${id}`)
  }
})

test('reduceByKeyAndWindow with and without invFn, and countByValueAndWindow, agree on every batch', async () => {
  const ssc = context()
  const words = input(ssc)
  const pairs = words.map((w): [string, number] => [w, 1])
  const plain = new Map<number, [string, number][]>()
  const incremental = new Map<number, [string, number][]>()
  const byValue = new Map<number, [string, number][]>()
  let inverseCalls = 0
  pairs
    .reduceByKeyAndWindow((a, b) => a + b, 50, 20)
    .foreachBatch(async (rdd, batch) => {
      plain.set(batch.id, sorted(await rdd.collect()))
    })
  const subtract = (a: number, b: number) => {
    inverseCalls++
    return a - b
  }
  pairs
    .reduceByKeyAndWindow((a, b) => a + b, subtract, 50, 20, { filter: ([, n]) => n !== 0 })
    .foreachBatch(async (rdd, batch) => {
      incremental.set(batch.id, sorted(await rdd.collect()))
    })
  words.countByValueAndWindow(50, 20).foreachBatch(async (rdd, batch) => {
    byValue.set(batch.id, sorted(await rdd.collect()))
  })
  await runThrough(ssc, 17)
  const emitted = [1, 3, 5, 7, 9, 11, 13, 15, 17]
  assert.deepEqual([...plain.keys()], emitted)
  for (const id of emitted) {
    const expected = counts(wordsOf(id - 4, id))
    assert.deepEqual(plain.get(id), expected, `plain window at batch ${id}`)
    assert.deepEqual(incremental.get(id), expected, `incremental window at batch ${id}`)
    assert.deepEqual(byValue.get(id), expected, `countByValueAndWindow at batch ${id}`)
  }
  assert.deepEqual(plain.get(17), [], 'the data ran out at batch 9: the window drained')
  assert.ok(inverseCalls > 0, 'the incremental form subtracted the batches that left the window')
})

test('a filter that drops keys still holding a value is caught: the window is recomputed from scratch', async () => {
  const { logger, messages } = recordingLogger()
  const ssc = context({ logger })
  const pairs = input(ssc).map((w): [string, number] => [w, 1])
  const results = new Map<number, [string, number][]>()
  pairs
    // Drops w0 whatever its count: w0 then leaves the window without being in the previous result.
    .reduceByKeyAndWindow(
      (a, b) => a + b,
      (a, b) => a - b,
      30,
      10,
      { filter: ([w]) => w !== 'w0' },
    )
    .foreachBatch(async (rdd, batch) => {
      results.set(batch.id, sorted(await rdd.collect()))
    })
  await runThrough(ssc, 12)
  for (let id = 0; id <= 12; id++) {
    const expected = counts(wordsOf(id - 2, id)).filter(([w]) => w !== 'w0')
    assert.deepEqual(results.get(id), expected, `window at batch ${id}`)
  }
  assert.ok(messages().some((m) => m.startsWith('a key left the window without being in the previous')))
})

test('window lengths and slides must be multiples of the batch interval, named in the error', () => {
  const ssc = context()
  const words = input(ssc)
  const pairs = words.map((w): [string, number] => [w, 1])
  const cases: [() => unknown, string][] = [
    [() => words.window(15), "option 'length' must be a multiple of the batch interval (10 ms), got 15"],
    [() => words.window(40, 15), "option 'slide' must be a multiple of the batch interval (10 ms), got 15"],
    [() => words.window(0), "option 'length' must be greater than 0 (milliseconds), got 0"],
    [() => words.window(-10), "option 'length' must be greater than 0 (milliseconds), got -10"],
    [
      () => words.window(Number.NaN),
      "option 'length' must be a finite number (milliseconds), got a number (NaN)",
    ],
    [() => words.window('40' as unknown as number), `option 'length' must be a number, got a string ("40")`],
    [
      () => words.countByWindow(40, 25),
      "option 'slide' must be a multiple of the batch interval (10 ms), got 25",
    ],
    [
      () => words.reduceByWindow((a) => a, 45),
      "option 'length' must be a multiple of the batch interval (10 ms), got 45",
    ],
    [
      () => pairs.reduceByKeyAndWindow((a, b) => a + b, 40, 12),
      "option 'slide' must be a multiple of the batch interval (10 ms), got 12",
    ],
    [
      () =>
        pairs.reduceByKeyAndWindow(
          (a, b) => a + b,
          (a, b) => a - b,
          41,
        ),
      "option 'length' must be a multiple of the batch interval (10 ms), got 41",
    ],
    [
      () =>
        pairs.reduceByKeyAndWindow((a, b) => a + b, 'x' as unknown as (a: number, b: number) => number, 40),
      `option 'length' must be a number, got a string ("x")`,
    ],
    [
      () =>
        pairs.reduceByKeyAndWindow(
          (a, b) => a + b,
          (a, b) => a - b,
          40,
          10,
          { filter: 3 as never },
        ),
      "reduceByKeyAndWindow: option 'filter' must be a function, got a number (3)",
    ],
    [
      () => words.countByValueAndWindow(40, 30, { numPartitions: 0 }),
      "reduceByKeyAndWindow: option 'numPartitions' must be at least 1, got 0",
    ],
  ]
  for (const [define, message] of cases) {
    assert.throws(
      define,
      (error) => isSluiceError(error, ErrorCodes.INVALID_OPTION) && error.message === message,
      message,
    )
  }
})

test('windows after a restart hold exactly their batches, each output called once per batch (graceful stop, then a forced one)', async (t) => {
  /** One call of an output operation, in the order the calls were made. */
  interface OutputCall {
    readonly run: number
    readonly output: 'counts' | 'window'
    readonly id: number
    readonly replay: boolean
    value?: unknown
  }
  const calls: OutputCall[] = []
  const dir = tempDir(t)
  // Counts over 6 batches every 2 (incremental), and the records of 5 batches every batch.
  const define = (run: number, stopInBatch?: number) => {
    const ssc = context({ checkpoint: dir })
    const pairs = input(ssc).map((w): [string, number] => [w, 1])
    pairs
      .reduceByKeyAndWindow(
        (a, b) => a + b,
        (a, b) => a - b,
        60,
        20,
        { filter: ([, n]) => n !== 0 },
      )
      .foreachBatch(async (rdd, batch) => {
        const call: OutputCall = { run, output: 'counts', id: batch.id, replay: batch.replay }
        calls.push(call)
        if (batch.id === stopInBatch) {
          // Killed in the middle of the batch: this output started, the next one never will.
          void ssc.stop({ graceful: false })
          await new Promise((resolve) => batch.signal.addEventListener('abort', resolve))
          return
        }
        call.value = sorted(await rdd.collect())
      })
    pairs.window(50, 10).foreachBatch(async (rdd, batch) => {
      const call: OutputCall = { run, output: 'window', id: batch.id, replay: batch.replay }
      calls.push(call)
      call.value = sorted(await rdd.collect())
    })
    return ssc
  }

  await runThrough(define(1), 4) // stops mid-window: the window at batch 5 covers batches 0..5
  // The second run is stopped by force inside batch 9, after its first output: the batch
  // stays planned, uncommitted, and half of its outputs ran.
  const second = define(2, 9)
  await second.start()
  await second.awaitTermination()
  await runThrough(define(3), 15)

  // Every batch's outputs once, in order, from the records the input defines; batch 9 again
  // in full by the third run, as a replay.
  const expected: OutputCall[] = []
  const batchCalls = (run: number, id: number, replay = false) => {
    if (id % 2 === 1) {
      expected.push({ run, output: 'counts', id, replay, value: counts(wordsOf(id - 5, id)) })
    }
    const records = wordsOf(id - 4, id).map((w): [string, number] => [w, 1])
    expected.push({ run, output: 'window', id, replay, value: sorted(records) })
  }
  for (let id = 0; id <= 4; id++) batchCalls(1, id)
  for (let id = 5; id <= 8; id++) batchCalls(2, id)
  expected.push({ run: 2, output: 'counts', id: 9, replay: false })
  batchCalls(3, 9, true)
  for (let id = 10; id <= 15; id++) batchCalls(3, id)
  assert.deepEqual(calls, expected)
  assert.deepEqual(
    calls.find((c) => c.output === 'window' && c.id === 15),
    { run: 3, output: 'window', id: 15, replay: false, value: [] },
    'the data ran out at batch 9: the window drained',
  )
})
