import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type ErrorCode, ErrorCodes, isSluiceError, SluiceError } from '../../src/core/errors.ts'
import type { Chunks } from '../../src/rdd/chunks.ts'
import { fromSource } from '../../src/rdd/source-rdd.ts'
import type { TaskContext } from '../../src/rdd/task-context.ts'
import { defaultTaskRunner, TaskRunner } from '../../src/rdd/task-runner.ts'
import { recordingLogger } from '../helpers/recording-logger.ts'
import { chunksOfRange, countingSource, quietRunner, yieldToEventLoop } from './support.ts'

const collectTask = async <T>(chunks: Chunks<T>): Promise<T[]> => {
  const out: T[] = []
  for await (const chunk of chunks) out.push(...chunk)
  return out
}

test('runJob returns results in the order of the requested partitions, with task contexts', async () => {
  const runner = quietRunner()
  const { rdd, stats } = countingSource([[[0, 1]], [[10]], [[20, 21, 22]]], runner)
  const results = await runner.runJob(rdd, [2, 0], collectTask)
  assert.deepEqual(results, [
    [20, 21, 22],
    [0, 1],
  ])
  const contexts = [...stats.computed].sort((a, b) => a.partition - b.partition)
  assert.deepEqual(
    contexts.map(({ nodeId, partition, attempt }) => ({ nodeId, partition, attempt })),
    [
      { nodeId: rdd.id, partition: 0, attempt: 1 },
      { nodeId: rdd.id, partition: 2, attempt: 1 },
    ],
  )
  assert.equal(contexts[0]!.jobId, contexts[1]!.jobId)

  await runner.runJob(rdd, [1], collectTask)
  assert.notEqual(stats.computed[2]!.jobId, contexts[0]!.jobId, 'every job gets a new id')
})

test('a task failing on attempts 1 and 2 is retried from scratch and the job succeeds', async () => {
  const { logger, entries } = recordingLogger('warn')
  const runner = new TaskRunner({ retryBackoffMs: 1, logger })
  const attempts: [number, number][] = []
  const rdd = fromSource(
    3,
    async function* (partition, ctx) {
      attempts.push([partition, ctx.attempt])
      yield [partition * 10]
      if (partition === 1 && ctx.attempt <= 2) throw new Error(`flaky read ${ctx.attempt}`)
      yield [partition * 10 + 1]
    },
    { runner },
  )
  assert.deepEqual(await runner.runJob(rdd, [0, 1, 2], collectTask), [
    [0, 1],
    [10, 11],
    [20, 21],
  ])
  assert.deepEqual(
    attempts.filter(([partition]) => partition === 1),
    [
      [1, 1],
      [1, 2],
      [1, 3],
    ],
  )
  assert.deepEqual(attempts.filter(([partition]) => partition !== 1).sort(), [
    [0, 1],
    [2, 1],
  ])
  assert.deepEqual(
    entries.map(({ msg, partition, attempt, error }) => ({ msg, partition, attempt, error })),
    [
      { msg: 'task failed, retrying', partition: 1, attempt: 1, error: 'flaky read 1' },
      { msg: 'task failed, retrying', partition: 1, attempt: 2, error: 'flaky read 2' },
    ],
  )
})

test('a task failing every attempt fails the job with TASK_FAILED, keeps the cause and aborts the others', async () => {
  const runner = quietRunner({ maxAttempts: 3 })
  const thrown: Error[] = []
  let slowTaskSignal: AbortSignal | undefined
  let slowTaskSawAbort = false
  const rdd = fromSource(
    2,
    async function* (partition, ctx) {
      if (partition === 0) {
        slowTaskSignal = ctx.signal
        // A long read that only stops when the job is aborted.
        await new Promise<void>((resolve) =>
          ctx.signal.addEventListener('abort', () => {
            slowTaskSawAbort = true
            resolve()
          }),
        )
        throw ctx.signal.reason
      }
      const error = new Error(`broker gone ${ctx.attempt}`)
      thrown.push(error)
      throw error
    },
    { runner },
  )
  const error = await runner.runJob(rdd, [0, 1], collectTask).then(
    () => assert.fail('the job should fail'),
    (e: unknown) => e,
  )
  assert.ok(isSluiceError(error, ErrorCodes.TASK_FAILED))
  assert.equal(error.message, `SourceRdd[${rdd.id}] partition 1 failed after 3 attempts: broker gone 3`)
  assert.equal(thrown.length, 3)
  assert.equal(error.cause, thrown[2])
  assert.equal(error.retriable, true)
  assert.deepEqual(
    { ...error.details, jobId: undefined },
    { rdd: `SourceRdd[${rdd.id}]`, jobId: undefined, nodeId: rdd.id, partition: 1, attempts: 3 },
  )
  assert.equal(slowTaskSawAbort, true)
  assert.equal(slowTaskSignal?.reason, error)
})

/** The failures that would happen again on every attempt (the test's own list, not the runner's). */
const deterministic: ErrorCode[] = [
  ErrorCodes.DESERIALIZATION,
  // The range reader has already fetched a corrupt batch a second time before it fails.
  ErrorCodes.CORRUPT_RECORD_BATCH,
  ErrorCodes.OFFSET_OUT_OF_RANGE,
  ErrorCodes.INVALID_ARGUMENT,
  ErrorCodes.INVALID_OPTION,
]

test('deterministic failures are not retried: the job fails after one attempt', async () => {
  for (const code of deterministic) {
    const runner = quietRunner()
    const attempts: number[] = []
    const original = new SluiceError(code, 'bad record at offset 7')
    const rdd = fromSource(
      1,
      (_partition, ctx) => {
        attempts.push(ctx.attempt)
        throw original
      },
      { runner },
    )
    const error = await runner.runJob(rdd, [0], collectTask).catch((e: unknown) => e)
    assert.ok(isSluiceError(error, ErrorCodes.TASK_FAILED), code)
    assert.equal(
      error.message,
      `SourceRdd[${rdd.id}] partition 0 failed after 1 attempt (${code} is not retried): bad record at offset 7`,
    )
    assert.equal(error.cause, original)
    assert.equal(error.retriable, false)
    assert.deepEqual(attempts, [1], code)
  }
})

test('other SluiceErrors and user errors are retried up to maxAttempts', async () => {
  const failures: [string, unknown][] = [
    ...Object.values(ErrorCodes)
      .filter((code) => !deterministic.includes(code))
      .map((code): [string, unknown] => [code, new SluiceError(code, 'something went wrong')]),
    ['a user Error', new Error('something went wrong')],
    ['a user TypeError', new TypeError('something went wrong')],
    ['a thrown string', 'something went wrong'],
  ]
  for (const [what, thrown] of failures) {
    const runner = quietRunner({ maxAttempts: 3 })
    const attempts: number[] = []
    const rdd = fromSource(
      1,
      (_partition, ctx) => {
        attempts.push(ctx.attempt)
        throw thrown
      },
      { runner },
    )
    const error = await runner.runJob(rdd, [0], collectTask).catch((e: unknown) => e)
    assert.ok(isSluiceError(error, ErrorCodes.TASK_FAILED), what)
    assert.deepEqual(attempts, [1, 2, 3], what)
    assert.equal(
      error.message,
      `SourceRdd[${rdd.id}] partition 0 failed after 3 attempts: something went wrong`,
      what,
    )
    assert.equal(error.cause, thrown, what)
    assert.equal(error.retriable, true, what)
  }
})

test('no more than `concurrency` tasks run at once, across all jobs of the runner', async () => {
  const runner = quietRunner({ concurrency: 2 })
  let running = 0
  let maxRunning = 0
  const rdd = fromSource(
    6,
    async function* (partition) {
      running++
      maxRunning = Math.max(maxRunning, running)
      try {
        await yieldToEventLoop()
        yield [partition]
      } finally {
        running--
      }
    },
    { runner },
  )
  const all = [0, 1, 2, 3, 4, 5]
  const [first, second] = await Promise.all([
    runner.runJob(rdd, all, collectTask),
    runner.runJob(rdd, all, collectTask),
  ])
  assert.deepEqual(first, [[0], [1], [2], [3], [4], [5]])
  assert.deepEqual(second, first)
  assert.equal(maxRunning, 2)
  assert.equal(running, 0)
})

// A deadlock never settles: the short limit turns one into a failure naming this test.
test('an action run inside a task does not wait for the pool (no deadlock at concurrency 1)', {
  timeout: 10_000,
}, async () => {
  const runner = quietRunner({ concurrency: 1 })
  const inner = fromSource(2, (partition) => [[partition + 100]], { runner })
  const outer = fromSource(
    2,
    async function* (partition) {
      const looked = await runner.runJob(inner, [0, 1], collectTask)
      yield [partition, ...looked.flat()]
    },
    { runner },
  )
  assert.deepEqual(await runner.runJob(outer, [0, 1], collectTask), [
    [0, 100, 101],
    [1, 100, 101],
  ])
})

test('cancelling a job aborts its running tasks and rejects with the reason', async () => {
  const runner = quietRunner({ concurrency: 1 })
  const started: number[] = []
  const sawAbort: number[] = []
  const { promise: firstStarted, resolve: markStarted } = Promise.withResolvers<void>()
  const rdd = fromSource(
    3,
    async function* (partition, ctx: TaskContext) {
      started.push(partition)
      markStarted()
      await new Promise<void>((resolve) =>
        ctx.signal.addEventListener('abort', () => {
          sawAbort.push(partition)
          resolve()
        }),
      )
      yield [partition]
    },
    { runner },
  )
  const controller = new AbortController()
  const job = runner.runJob(rdd, [0, 1, 2], collectTask, { signal: controller.signal })
  await firstStarted
  controller.abort(new Error('stopping'))
  const error = await job.catch((e: unknown) => e)
  assert.equal((error as Error).message, 'stopping')
  assert.deepEqual(sawAbort, [0])
  assert.deepEqual(started, [0], 'queued tasks never start')

  const again = await runner
    .runJob(rdd, [0], collectTask, { signal: controller.signal })
    .catch((e: unknown) => e)
  assert.equal((again as Error).message, 'stopping', 'an already aborted signal fails at once')
  assert.deepEqual(started, [0])
})

test('runJob rejects partitions the RDD does not have', async () => {
  const runner = quietRunner()
  const { rdd } = countingSource([chunksOfRange(0, 3, 3)], runner)
  for (const partition of [1, -1, 0.5]) {
    await assert.rejects(runner.runJob(rdd, [partition], collectTask), {
      code: ErrorCodes.INVALID_ARGUMENT,
      message: `SourceRdd[${rdd.id}] has no partition ${partition} (it has 1)`,
    })
  }
  assert.deepEqual(await runner.runJob(rdd, [], collectTask), [])
})

test('invalid runner options fail at construction, naming the option', () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ concurrency: 0 }, "option 'concurrency' must be at least 1, got 0"],
    [{ concurrency: 1.5 }, "option 'concurrency' must be an integer, got a number (1.5)"],
    [{ concurrency: '4' }, `option 'concurrency' must be a number, got a string ("4")`],
    [{ maxAttempts: 0 }, "option 'maxAttempts' must be at least 1, got 0"],
    [{ maxAttempts: Number.NaN }, "option 'maxAttempts' must be a finite number, got a number (NaN)"],
    [{ retryBackoffMs: -1 }, "option 'retryBackoffMs' must be at least 0 (milliseconds), got -1"],
    [
      { retryBackoffMs: Number.POSITIVE_INFINITY },
      "option 'retryBackoffMs' must be a finite number (milliseconds), got a number (Infinity)",
    ],
    [
      { logger: {} },
      "option 'logger' must be a Logger (an object with debug, info, warn, error and child methods); it has no debug, info, warn, error, child method",
    ],
    [{ concurency: 2 }, "unknown option 'concurency' — did you mean 'concurrency'?"],
  ]
  for (const [options, message] of cases) {
    assert.throws(() => new TaskRunner(options), {
      code: ErrorCodes.INVALID_OPTION,
      message: `TaskRunner: ${message}`,
    })
  }
})

test('defaults: 4 concurrent tasks, 4 attempts, 50 ms backoff step; shared default runner', () => {
  const runner = new TaskRunner()
  assert.deepEqual([runner.concurrency, runner.maxAttempts, runner.retryBackoffMs], [4, 4, 50])
  assert.deepEqual(
    [defaultTaskRunner.concurrency, defaultTaskRunner.maxAttempts, defaultTaskRunner.retryBackoffMs],
    [4, 4, 50],
  )
})
