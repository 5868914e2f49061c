// The contract a Kafka RDD relies on: subclass Rdd from rdd.ts alone (imported first, so the
// module graph is entered through the base class), bring a runner, override what it knows.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { silentLogger } from '../../src/core/logger.ts'
import { Rdd } from '../../src/rdd/rdd.ts'
import type { TaskContext } from '../../src/rdd/task-context.ts'
import { TaskRunner } from '../../src/rdd/task-runner.ts'

/** A root RDD that knows its size from its ranges, like a Kafka RDD from its offsets. */
class RangeRdd extends Rdd<bigint> {
  readonly numPartitions: number
  readonly ranges: readonly (readonly [bigint, bigint])[]
  reads = 0

  constructor(ranges: readonly (readonly [bigint, bigint])[], runner: TaskRunner) {
    super({ runner })
    this.ranges = ranges
    this.numPartitions = ranges.length
  }

  async *computeChunks(partition: number, task: TaskContext): AsyncIterable<readonly bigint[]> {
    this.reads++
    const [from, until] = this.ranges[partition]!
    for (let offset = from; offset < until && !task.signal.aborted; offset += 2n) {
      yield offset + 1n < until ? [offset, offset + 1n] : [offset]
    }
  }

  override async count(): Promise<number> {
    return this.ranges.reduce((sum, [from, until]) => sum + Number(until - from), 0)
  }

  override async isEmpty(): Promise<boolean> {
    return this.ranges.every(([from, until]) => from === until)
  }

  override describePartition(partition: number): string {
    const [from, until] = this.ranges[partition]!
    return `partition ${partition} (offsets [${from}, ${until}))`
  }
}

const runner = new TaskRunner({ retryBackoffMs: 0, maxAttempts: 1, logger: silentLogger })

test('a subclass answers count and isEmpty without reading, and keeps every operation', async () => {
  const rdd = new RangeRdd(
    [
      [100n, 105n],
      [7n, 7n],
      [40n, 42n],
    ],
    runner,
  )
  assert.equal(await rdd.count(), 7)
  assert.equal(await rdd.isEmpty(), false)
  assert.equal(rdd.reads, 0)

  assert.deepEqual(await rdd.collect(), [100n, 101n, 102n, 103n, 104n, 40n, 41n])
  assert.equal(await rdd.map((offset) => offset).count(), 7, 'a derived RDD counts by reading')
  assert.deepEqual(await rdd.take(3), [100n, 101n, 102n])
  const parity = await rdd
    .map((offset): [bigint, number] => [offset % 2n, 1])
    .reduceByKey((a, b) => a + b)
    .collect()
  assert.deepEqual(
    new Map(parity),
    new Map([
      [0n, 4],
      [1n, 3],
    ]),
  )
  assert.equal(String(rdd), `RangeRdd[${rdd.id}]`)
})

test('task failures name the partition as the subclass describes it, through derived nodes', async () => {
  const rdd = new RangeRdd([[0n, 4n]], runner)
  const failing = rdd.map((offset) => {
    if (offset === 3n) throw new Error('poison record')
    return offset
  })
  await assert.rejects(failing.collect(), {
    message: `MapPartitionsRdd[${failing.id}] partition 0 (offsets [0, 4)) failed after 1 attempt: poison record`,
  })
})
