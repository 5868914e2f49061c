import type { OffsetRange } from '../kafka/offset-range.ts'
import { readRange } from '../kafka/range-reader.ts'
import type { KafkaRecord, PayloadDecoder } from '../kafka/records.ts'
import type { IsolationLevel } from '../kafka/types.ts'
import type { Chunks } from '../rdd/chunks.ts'
import { currentJobProgress } from '../rdd/job-progress.ts'
import { type ActionOptions, Rdd } from '../rdd/rdd.ts'
import type { TaskContext } from '../rdd/task-context.ts'
import type { TaskRunner } from '../rdd/task-runner.ts'
import type { ReadCounters } from '../stream/batch-progress.ts'
import type { ClientLease } from './client-lease.ts'
import { checkRangesInLog } from './range-bounds.ts'
import type { DeserializationErrorPolicy, UndecodableRecords } from './undecodable-records.ts'

/** Everything a KafkaRDD needs to read its ranges; built once per createRDD call or input stream. */
export interface KafkaReadSettings<K, V> {
  readonly lease: ClientLease
  readonly key: PayloadDecoder<K>
  readonly value: PayloadDecoder<V>
  readonly isolationLevel: IsolationLevel
  readonly maxBytesPerFetch: number
  /** Verify every fetched record batch's CRC-32C. */
  readonly checkCrcs: boolean
  /**
   * Whether offsets may have gaps (compacted topics, transaction markers): then `count()`
   * and `isEmpty()` must read, since offset arithmetic would overcount. `'auto'` checks each
   * topic's cleanup.policy.
   */
  readonly allowNonConsecutiveOffsets: boolean | 'auto'
  /** What an undecodable record does: fail the read (default), or be skipped or dead-lettered. */
  readonly onDeserializationError: DeserializationErrorPolicy
}

export interface KafkaRddInit<K, V> {
  readonly ranges: readonly OffsetRange[]
  readonly settings: KafkaReadSettings<K, V>
  readonly runner?: TaskRunner
  /** Ranges planned from fresh log offsets (the direct stream) need no bounds check. */
  readonly rangesKnownValid?: boolean
  /** Aborts every read of this RDD (a stream's forced stop), on top of each task's own signal. */
  readonly signal?: AbortSignal
  /** Where undecodable records go, when the policy is not 'fail' (one per stream batch, or per createRDD). */
  readonly undecodable?: UndecodableRecords
  /** Each task sends the dead letters of its range before it ends (createRDD); a stream sends a batch's at its commit. */
  readonly sendDeadLettersPerTask?: boolean
}

/**
 * An RDD whose partitions are Kafka offset ranges, one partition per range. Nothing is read
 * until an action runs; then each task streams exactly its range from the partition leader
 * in fetch-sized chunks. `count()` and `isEmpty()` come from offset arithmetic when the
 * offsets are consecutive, reading nothing.
 */
export class KafkaRDD<K, V> extends Rdd<KafkaRecord<K, V>> {
  readonly offsetRanges: readonly OffsetRange[]
  readonly numPartitions: number
  readonly #settings: KafkaReadSettings<K, V>
  readonly #signal: AbortSignal | undefined
  readonly #undecodable: UndecodableRecords | undefined
  readonly #sendsDeadLetters: boolean
  #checked: Promise<void> | undefined
  #consecutive: Promise<boolean> | undefined

  constructor(init: KafkaRddInit<K, V>) {
    super(init.runner ? { runner: init.runner } : {})
    this.offsetRanges = Object.freeze([...init.ranges])
    this.numPartitions = this.offsetRanges.length
    this.#settings = init.settings
    this.#signal = init.signal
    this.#undecodable = init.undecodable
    this.#sendsDeadLetters = init.sendDeadLettersPerTask ?? false
    if (init.rangesKnownValid) this.#checked = Promise.resolve()
  }

  computeChunks(partition: number, task: TaskContext): Chunks<KafkaRecord<K, V>> {
    const range = this.offsetRanges[partition]!
    const settings = this.#settings
    const signal = this.#signal ? AbortSignal.any([task.signal, this.#signal]) : task.signal
    // Only an action that asked for progress pays for counting: the others keep the plain delegation.
    const progress = currentJobProgress()
    const undecodable = this.#undecodable
    const sendsDeadLetters = this.#sendsDeadLetters
    return (async function* read() {
      if (range.isEmpty) return
      const client = settings.lease.acquire()
      try {
        const chunks = readRange(client, {
          topic: range.topic,
          partition: range.partition,
          from: range.fromOffset,
          until: range.untilOffset,
          isolationLevel: settings.isolationLevel,
          maxBytesPerFetch: settings.maxBytesPerFetch,
          checkCrcs: settings.checkCrcs,
          key: settings.key,
          value: settings.value,
          onUndecodable: undecodable?.take,
          signal,
        })
        if (!progress) {
          yield* chunks
        } else {
          for await (const chunk of chunks) {
            progress.recordsRead(chunk.length)
            yield chunk
          }
        }
        if (sendsDeadLetters && undecodable !== undefined) {
          const letters = undecodable.pendingIn(
            range.topic,
            range.partition,
            range.fromOffset,
            range.untilOffset,
          )
          await undecodable.send(client, letters)
        }
      } finally {
        await settings.lease.release()
      }
    })()
  }

  /**
   * The undecodable records the reads so far skipped or sent to the dead-letter topic
   * (`onDeserializationError`), each counted once however often its range was read.
   */
  readCounters(): ReadCounters {
    return this.#undecodable?.counts ?? { skippedRecords: 0, deadLetteredRecords: 0 }
  }

  override describePartition(partition: number): string {
    const range = this.offsetRanges[partition]
    return range ? `offset range ${range}` : super.describePartition(partition)
  }

  /** Bad ranges fail here, before any task of the job runs. */
  override async prepareStages(signal?: AbortSignal): Promise<void> {
    await this.#checkRanges()
    await super.prepareStages(signal)
  }

  override async count(options: ActionOptions = {}): Promise<number> {
    await this.#checkRanges()
    if (!(await this.#offsetsConsecutive())) return super.count(options)
    return this.offsetRanges.reduce((sum, range) => sum + range.count, 0)
  }

  override async isEmpty(options: ActionOptions = {}): Promise<boolean> {
    await this.#checkRanges()
    if (this.offsetRanges.every((range) => range.isEmpty)) return true
    if (!(await this.#offsetsConsecutive())) return super.isEmpty(options)
    return false
  }

  #checkRanges(): Promise<void> {
    this.#checked ??= this.#settings.lease
      .use((client) => checkRangesInLog(client, this.offsetRanges, this.#settings.isolationLevel))
      .catch((error: unknown) => {
        this.#checked = undefined
        throw error
      })
    return this.#checked
  }

  #offsetsConsecutive(): Promise<boolean> {
    // Undecodable records left out make the count smaller than the offsets say: read to count.
    if (this.#undecodable !== undefined) return Promise.resolve(false)
    const setting = this.#settings.allowNonConsecutiveOffsets
    if (setting !== 'auto') return Promise.resolve(!setting)
    this.#consecutive ??= this.#settings.lease.use(async (client) => {
      const topics = [...new Set(this.offsetRanges.map((r) => r.topic))]
      if (topics.length === 0) return true
      const configs = await client.topicConfigs(topics, ['cleanup.policy'])
      return topics.every((topic) => !(configs.get(topic)?.['cleanup.policy'] ?? '').includes('compact'))
    })
    return this.#consecutive
  }
}
