// The parts of the input seam that inputs holding data of their own rely on: a graceful stop
// drains what they received, and each commit tells them which batches' data may go.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { JsonValue } from '../../src/checkpoint/json-value.ts'
import { silentLogger } from '../../src/core/logger.ts'
import { parallelize } from '../../src/rdd/parallelize.ts'
import { ManualClock } from '../../src/scheduler/manual-clock.ts'
import type { BatchRef } from '../../src/stream/batch.ts'
import { InputDStream, type InputRecovery, type InputSlice } from '../../src/stream/input-dstream.ts'
import type { SourcePosition } from '../../src/stream/listener.ts'
import { StreamingContext } from '../../src/stream/streaming-context.ts'
import { BatchDriver, collectBatches } from '../../src/testing/batch-driver.ts'
import { tempDir } from '../helpers/temp-dir.ts'

/** An input that takes data in on its own (like a receiver): each batch plans at most two held values. */
class HoldingInput extends InputDStream<number> {
  readonly kind = 'holding'
  readonly held: number[] = []
  readonly released: number[] = []
  readonly recoveries: InputRecovery[] = []
  stops = 0

  constructor(context: StreamingContext) {
    super(context, { defaultPrefix: 'holding', owner: 'HoldingInput' })
  }

  async open(recovery: InputRecovery): Promise<void> {
    this.recoveries.push(recovery)
  }

  position(): Omit<SourcePosition, 'input' | 'kind'> {
    return { fresh: true, description: `${this.held.length} held`, offsets: [] }
  }

  async plan(_batch: BatchRef): Promise<JsonValue> {
    return { values: this.held.splice(0, 2) }
  }

  slice(plan: JsonValue): InputSlice<number> {
    const values = (plan as { values: number[] }).values
    return {
      progress: {
        input: this.name,
        kind: this.kind,
        description: values.join(','),
        rateLimit: null,
        numInputRecords: values.length,
        lostRecords: 0,
        partitions: [],
      },
      offsetRanges: [],
      lostRanges: [],
      rdd: () => parallelize(values, 1, { runner: this.context.runner }),
    }
  }

  override async stopReceiving(): Promise<void> {
    this.stops++
  }

  override holdsUnplannedData(): boolean {
    return this.held.length > 0
  }

  override async releaseBefore(batchId: number): Promise<void> {
    this.released.push(batchId)
  }

  async close(): Promise<void> {}
}

function context(options: { checkpoint?: string } = {}) {
  const clock = new ManualClock(1_000_000)
  const ssc = new StreamingContext({
    appName: 'seam',
    batchInterval: 100,
    logger: silentLogger,
    clock,
    ...options,
  })
  return { ssc, driver: new BatchDriver(ssc, clock) }
}

test('a graceful stop has receiving inputs stop, then plans batches until none holds unplanned data', async () => {
  const { ssc, driver } = context()
  const input = new HoldingInput(ssc)
  const collected = collectBatches(input)
  await ssc.start()
  input.held.push(1, 2, 3)
  await driver.run(2)
  input.held.push(4, 5, 6, 7, 8)
  await ssc.stop()
  assert.equal(input.stops, 1)
  assert.deepEqual(
    collected.batches.map((b) => b.values),
    [[], [1, 2], [3, 4], [5, 6], [7, 8]],
    'the stop planned batches, without waiting for their time, until everything held was taken',
  )
})

test('a forced stop drains nothing', async () => {
  const { ssc, driver } = context()
  const input = new HoldingInput(ssc)
  collectBatches(input)
  await ssc.start()
  await driver.next()
  input.held.push(1, 2, 3)
  await ssc.stop({ graceful: false })
  assert.equal(input.stops, 0)
  assert.deepEqual(input.held, [1, 2, 3])
})

test('after each commit every input learns which batches the driver will never read again', async () => {
  const { ssc, driver } = context()
  const input = new HoldingInput(ssc)
  collectBatches(input)
  // A window over 3 batches reads the two before the current one.
  collectBatches(input.window(300, 100))
  await ssc.start()
  await driver.run(5)
  await ssc.stop({ graceful: false })
  assert.deepEqual(input.released, [0, 0, 0, 1, 2])
})

test('an input opened from a checkpoint learns the newest logged batch and whether it committed', async (t) => {
  const dir = tempDir(t, 'input-seam')
  {
    const { ssc, driver } = context({ checkpoint: dir })
    const input = new HoldingInput(ssc)
    collectBatches(input)
    await ssc.start()
    await driver.run(3)
    await ssc.stop({ graceful: false })
    assert.deepEqual(input.recoveries, [{}])
  }
  const { ssc, driver } = context({ checkpoint: dir })
  const input = new HoldingInput(ssc)
  collectBatches(input)
  await ssc.start()
  await driver.next()
  await ssc.stop({ graceful: false })
  const { lastBatch, lastPlan } = input.recoveries[0]!
  assert.equal(lastBatch?.id, 2)
  assert.equal(lastBatch?.committed, true)
  assert.equal(lastBatch?.time, 1_000_200)
  assert.deepEqual(lastPlan, { values: [] })
})
