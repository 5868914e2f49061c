import { OffsetRange } from '../../src/kafka/offset-range.ts'
import { parallelize } from '../../src/rdd/parallelize.ts'
import type { Rdd } from '../../src/rdd/rdd.ts'
import type { BatchRef } from '../../src/stream/batch.ts'
import {
  type InputBatch,
  InputDStream,
  type InputPlan,
  type InputRecovery,
} from '../../src/stream/input-dstream.ts'
import type { StreamingContext } from '../../src/stream/streaming-context.ts'

/**
 * An input without Kafka, for testing the context itself: a "topic" whose partitions grow
 * by `perBatch` offsets every batch, and whose records are the offsets themselves.
 */
export class FakeInput extends InputDStream<number> {
  readonly topic: string
  readonly partitions: number
  perBatch: number
  readonly opened: InputRecovery[] = []
  readonly #next: bigint[]

  constructor(
    context: StreamingContext,
    options: { topic?: string; partitions?: number; perBatch?: number } = {},
  ) {
    super(context, `fake-${options.topic ?? 'fake'}`)
    this.topic = options.topic ?? 'fake'
    this.partitions = options.partitions ?? 2
    this.perBatch = options.perBatch ?? 5
    this.#next = Array.from({ length: this.partitions }, () => 0n)
  }

  owns(range: OffsetRange): boolean {
    return range.topic === this.topic
  }

  async open(recovery: InputRecovery): Promise<void> {
    this.opened.push(recovery)
    for (const range of recovery.lastRanges ?? []) this.#next[range.partition] = range.untilOffset
  }

  async plan(_batch: BatchRef): Promise<InputPlan> {
    const ranges = this.#next.map((from, partition) => {
      const until = from + BigInt(this.perBatch)
      this.#next[partition] = until
      return OffsetRange.create(this.topic, partition, from, until)
    })
    return { ranges, lostRecords: 0 }
  }

  rddOf(batch: InputBatch): Rdd<number> {
    const values = batch.plan.ranges.flatMap((r) =>
      Array.from({ length: r.count }, (_, i) => r.partition * 1_000_000 + Number(r.fromOffset) + i),
    )
    return parallelize(values, Math.max(1, batch.plan.ranges.length), { runner: this.context.runner })
  }

  async close(): Promise<void> {}
}
