import type { Logger } from '../core/logger.ts'
import { type DeadLetters, noDeadLetters } from '../kafka/dead-letters.ts'
import type { KafkaRecord } from '../kafka/records.ts'
import type { Rdd } from '../rdd/rdd.ts'
import type { TaskRunner } from '../rdd/task-runner.ts'
import type { PartitionProgress, ReadCounters, SourceProgress } from '../stream/batch-progress.ts'
import type { InputBatch, InputSlice } from '../stream/input-dstream.ts'
import type { KafkaPlan } from './kafka-plan.ts'
import { KafkaRDD, type KafkaReadSettings } from './kafka-rdd.ts'
import { UndecodableRecords } from './undecodable-records.ts'

/** Who reads a slice: for the logs and dead-letter headers of its undecodable records. */
export interface SliceReader {
  readonly name: string
  readonly kind: string
  readonly app: string
  readonly logger: Logger
}

/** A Kafka input's share of a batch: its plan, described, and the KafkaRDD that reads it. */
export class KafkaSlice<K, V> implements InputSlice<KafkaRecord<K, V>> {
  readonly plan: KafkaPlan
  readonly progress: SourceProgress
  readonly offsetRanges
  readonly lostRanges
  readonly owner
  readonly signal
  readonly #settings: KafkaReadSettings<K, V>
  readonly #runner: TaskRunner
  /** The batch's undecodable records, under the 'skip' or dead-letter policy. */
  readonly #undecodable: UndecodableRecords | undefined

  /** `signal`: when processes share the partitions, the lease's, which aborts when they are taken away. */
  constructor(
    input: SliceReader,
    plan: KafkaPlan,
    settings: KafkaReadSettings<K, V>,
    runner: TaskRunner,
    batchId: number,
    signal?: AbortSignal,
  ) {
    this.plan = plan
    this.#undecodable = UndecodableRecords.forBatch(settings.onDeserializationError, {
      logger: input.logger,
      app: input.app,
      input: input.name,
      batchId,
    })
    this.offsetRanges = plan.ranges.map((planned) => planned.range)
    this.lostRanges = plan.lost
    this.owner = plan.owner
    this.signal = signal
    this.#settings = settings
    this.#runner = runner
    const partitions = plan.ranges.map(({ range, latestOffset }): PartitionProgress => {
      const lag =
        latestOffset === undefined
          ? null
          : latestOffset > range.untilOffset
            ? latestOffset - range.untilOffset
            : 0n
      return {
        topic: range.topic,
        partition: range.partition,
        fromOffset: range.fromOffset.toString(),
        untilOffset: range.untilOffset.toString(),
        latestOffset: latestOffset === undefined ? null : latestOffset.toString(),
        lag: lag === null ? null : lag.toString(),
        records: range.count,
      }
    })
    const reading = this.offsetRanges.filter((range) => !range.isEmpty)
    this.progress = {
      input: input.name,
      kind: input.kind,
      description: reading.length === 0 ? 'no new records' : reading.map(String).join(' '),
      rateLimit: plan.rateLimit,
      numInputRecords: partitions.reduce((sum, p) => sum + p.records, 0),
      lostRecords: plan.lost.reduce((sum, range) => sum + range.count, plan.lostRecords),
      partitions,
    }
  }

  rdd(batch: InputBatch): Rdd<KafkaRecord<K, V>> {
    return new KafkaRDD({
      ranges: this.offsetRanges,
      settings: this.#settings,
      runner: this.#runner,
      rangesKnownValid: true,
      signal: batch.signal,
      ...(this.#undecodable === undefined ? {} : { undecodable: this.#undecodable }),
    })
  }

  get deadLetters(): DeadLetters {
    return this.#undecodable ?? noDeadLetters
  }

  readCounters(): ReadCounters {
    return this.#undecodable?.counts ?? { skippedRecords: 0, deadLetteredRecords: 0 }
  }

  async beforeCommit(): Promise<void> {
    await this.#undecodable?.sendPending(this.#settings.lease)
  }
}
