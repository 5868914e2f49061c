import type { JsonValue } from '../../src/checkpoint/json-value.ts'
import { OffsetRange, type OffsetRangeJson } from '../../src/kafka/offset-range.ts'
import { parallelize } from '../../src/rdd/parallelize.ts'
import type { Rdd } from '../../src/rdd/rdd.ts'
import type { BatchRef } from '../../src/stream/batch.ts'
import {
  type InputBatch,
  InputDStream,
  type InputRecovery,
  type InputSlice,
} from '../../src/stream/input-dstream.ts'
import type { SourcePosition } from '../../src/stream/listener.ts'
import type { StreamingContext } from '../../src/stream/streaming-context.ts'

/** The plan of a range-based test input: `{ ranges: OffsetRangeJson[] }`. */
export function rangesPlan(ranges: readonly OffsetRange[]): JsonValue {
  return { ranges: ranges.map((range) => ({ ...range.toJSON() })) }
}

export function rangesOfPlan(plan: JsonValue | undefined): OffsetRange[] {
  if (plan === undefined) return []
  return ((plan as unknown as { ranges: OffsetRangeJson[] }).ranges ?? []).map((json) =>
    OffsetRange.fromJSON(json),
  )
}

/** A slice over offset ranges, as a Kafka input's would look, reading with `read`. */
export function rangesSlice<T>(
  input: { name: string; kind: string },
  ranges: readonly OffsetRange[],
  read: (ranges: readonly OffsetRange[], batch: InputBatch) => Rdd<T>,
): InputSlice<T> {
  const records = ranges.reduce((sum, range) => sum + range.count, 0)
  return {
    progress: {
      input: input.name,
      kind: input.kind,
      description: ranges.map(String).join(' '),
      rateLimit: null,
      numInputRecords: records,
      lostRecords: 0,
      partitions: ranges.map((range) => ({
        topic: range.topic,
        partition: range.partition,
        fromOffset: String(range.fromOffset),
        untilOffset: String(range.untilOffset),
        latestOffset: null,
        lag: null,
        records: range.count,
      })),
    },
    offsetRanges: ranges,
    lostRanges: [],
    rdd: (batch) => read(ranges, batch),
  }
}

/**
 * An input without Kafka, for testing the context itself: a "topic" whose partitions grow
 * by `perBatch` offsets every batch, and whose records are the offsets themselves.
 */
export class FakeInput extends InputDStream<number> {
  readonly kind = 'fake'
  readonly topic: string
  readonly partitions: number
  perBatch: number
  readonly opened: InputRecovery[] = []
  readonly #next: bigint[]

  constructor(
    context: StreamingContext,
    options: { topic?: string; partitions?: number; perBatch?: number; name?: string } = {},
  ) {
    super(context, {
      name: options.name ?? `fake-${options.topic ?? 'fake'}`,
      defaultPrefix: 'fake',
      owner: 'FakeInput',
    })
    this.topic = options.topic ?? 'fake'
    this.partitions = options.partitions ?? 2
    this.perBatch = options.perBatch ?? 5
    this.#next = Array.from({ length: this.partitions }, () => 0n)
  }

  async open(recovery: InputRecovery): Promise<void> {
    this.opened.push(recovery)
    for (const range of rangesOfPlan(recovery.lastPlan)) this.#next[range.partition] = range.untilOffset
  }

  position(): Omit<SourcePosition, 'input' | 'kind'> {
    return {
      fresh: this.opened[0]?.lastPlan === undefined,
      description: this.#next.map((offset, p) => `${this.topic}-${p} @ ${offset}`).join(', '),
      offsets: this.#next.map((offset, partition) => ({
        topic: this.topic,
        partition,
        offset: String(offset),
      })),
    }
  }

  async plan(_batch: BatchRef): Promise<JsonValue> {
    const ranges = this.#next.map((from, partition) => {
      const until = from + BigInt(this.perBatch)
      this.#next[partition] = until
      return OffsetRange.create(this.topic, partition, from, until)
    })
    return rangesPlan(ranges)
  }

  slice(plan: JsonValue): InputSlice<number> {
    return rangesSlice(this, rangesOfPlan(plan), (ranges) => {
      const values = ranges.flatMap((r) =>
        Array.from({ length: r.count }, (_, i) => r.partition * 1_000_000 + Number(r.fromOffset) + i),
      )
      return parallelize(values, Math.max(1, ranges.length), { runner: this.context.runner })
    })
  }

  async close(): Promise<void> {}
}
