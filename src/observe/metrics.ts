import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import { type SinkBatchEvent, sinkBatchChannelName } from '../sinks/sink-diagnostics.ts'
import type { BatchInfo, FailedBatchInfo } from '../stream/batch.ts'
import type { BatchProgress } from '../stream/batch-progress.ts'
import type { StreamingListener } from '../stream/listener.ts'

/** Seconds; from a fast local batch to one stuck for minutes. */
const delayBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]

let ownRegistry: Registry | undefined

/**
 * sluice's own registry, used when the user passes none: sluice's metrics only. prom-client's
 * default process metrics are left to the application (`collectDefaultMetrics` on a registry
 * it passes): their GC observer runs at every collection, which cost an allocation-heavy job
 * a few percent of its CPU in the observe-overhead benchmark.
 */
export function sluiceRegistry(): Registry {
  ownRegistry ??= new Registry()
  return ownRegistry
}

const perRegistry = new WeakMap<Registry, SluiceMetrics>()

/** The label every series carries, and those of per-partition series. */
type AppLabels = 'app'
type PartitionLabels = 'app' | 'input' | 'topic' | 'partition'

/**
 * sluice's Prometheus metrics on one registry. Every series carries the `app` label, so
 * several StreamingContexts of one process share the metrics of a registry; each attaches
 * with `listen(app)` and updates only its own series.
 */
export class SluiceMetrics {
  readonly registry: Registry
  readonly batchRecords: Gauge<AppLabels>
  readonly recordsTotal: Counter<AppLabels>
  readonly schedulingDelay: Histogram<AppLabels>
  readonly processingTime: Histogram<AppLabels>
  readonly totalDelay: Histogram<AppLabels>
  readonly partitionLag: Gauge<PartitionLabels>
  readonly partitionLatestOffset: Gauge<PartitionLabels>
  readonly partitionCommittedOffset: Gauge<PartitionLabels>
  readonly inputRate: Gauge<AppLabels>
  readonly rateLimit: Gauge<'app' | 'input'>
  readonly batchesCompleted: Counter<AppLabels>
  readonly batchesFailed: Counter<AppLabels>
  readonly batchesReplayed: Counter<AppLabels>
  readonly recordsLost: Counter<AppLabels>
  readonly recordsSkipped: Counter<AppLabels>
  readonly recordsDeadLettered: Counter<AppLabels>
  readonly stateKeys: Gauge<AppLabels>
  readonly stateBytes: Gauge<AppLabels>
  readonly lastBatchCompleted: Gauge<AppLabels>
  readonly sinkTransactions: Counter<'app' | 'sink' | 'outcome'>
  readonly outputDuration: Histogram<'app' | 'output'>
  readonly #apps = new Set<string>()
  readonly #onSinkBatch = (message: unknown) => this.#sinkBatch(message)

  /** The metrics of `registry`, registered on it the first time. */
  static of(registry: Registry): SluiceMetrics {
    let metrics = perRegistry.get(registry)
    if (!metrics) {
      metrics = new SluiceMetrics(registry)
      perRegistry.set(registry, metrics)
    }
    return metrics
  }

  private constructor(registry: Registry) {
    this.registry = registry
    const registers = [registry]
    const app = ['app'] as const
    const partition = ['app', 'input', 'topic', 'partition'] as const
    this.batchRecords = new Gauge({
      name: 'sluice_batch_records',
      help: 'Records read by the last completed batch.',
      labelNames: app,
      registers,
    })
    this.recordsTotal = new Counter({
      name: 'sluice_records_total',
      help: 'Records read by completed batches since the job started.',
      labelNames: app,
      registers,
    })
    this.schedulingDelay = new Histogram({
      name: 'sluice_batch_scheduling_delay_seconds',
      help: 'How late each batch started after its due time.',
      labelNames: app,
      buckets: delayBuckets,
      registers,
    })
    this.processingTime = new Histogram({
      name: 'sluice_batch_processing_seconds',
      help: 'Time from the start of planning a batch to its commit.',
      labelNames: app,
      buckets: delayBuckets,
      registers,
    })
    this.totalDelay = new Histogram({
      name: 'sluice_batch_total_delay_seconds',
      help: 'Scheduling delay plus processing time of each batch: how far results trail the batch time.',
      labelNames: app,
      buckets: delayBuckets,
      registers,
    })
    this.partitionLag = new Gauge({
      name: 'sluice_partition_lag',
      help: 'Records of the partition left to read after the last completed batch (latest minus committed offset).',
      labelNames: partition,
      registers,
    })
    this.partitionLatestOffset = new Gauge({
      name: 'sluice_partition_latest_offset',
      help: "The partition's latest offset (last stable under read_committed) when the last completed batch was planned.",
      labelNames: partition,
      registers,
    })
    this.partitionCommittedOffset = new Gauge({
      name: 'sluice_partition_committed_offset',
      help: 'The until-offset of the last completed batch: where the next batch reads from.',
      labelNames: partition,
      registers,
    })
    this.inputRate = new Gauge({
      name: 'sluice_input_rate_records_per_second',
      help: 'Records per second of batch interval read by the last completed batch.',
      labelNames: app,
      registers,
    })
    this.rateLimit = new Gauge({
      name: 'sluice_rate_limit_records_per_second',
      help: 'The rate limit (records/s, whole input) in force for the last completed batch; absent when unlimited.',
      labelNames: ['app', 'input'] as const,
      registers,
    })
    this.batchesCompleted = new Counter({
      name: 'sluice_batches_completed_total',
      help: 'Batches committed.',
      labelNames: app,
      registers,
    })
    this.batchesFailed = new Counter({
      name: 'sluice_batches_failed_total',
      help: 'Batches that failed (the stream stops after one).',
      labelNames: app,
      registers,
    })
    this.batchesReplayed = new Counter({
      name: 'sluice_batches_replayed_total',
      help: 'Committed batches that re-ran the ranges of a batch planned before a crash.',
      labelNames: app,
      registers,
    })
    this.recordsLost = new Counter({
      name: 'sluice_records_lost_total',
      help: 'Records deleted by retention before they were read (failOnDataLoss: false).',
      labelNames: app,
      registers,
    })
    this.recordsSkipped = new Counter({
      name: 'sluice_records_skipped_total',
      help: "Records that could not be deserialized and were skipped (onDeserializationError: 'skip').",
      labelNames: app,
      registers,
    })
    this.recordsDeadLettered = new Counter({
      name: 'sluice_records_dead_lettered_total',
      help: 'Records that could not be deserialized and went to the dead-letter topic.',
      labelNames: app,
      registers,
    })
    this.stateKeys = new Gauge({
      name: 'sluice_state_keys',
      help: 'Keys held by the stateful streams after the last completed batch.',
      labelNames: app,
      registers,
    })
    this.stateBytes = new Gauge({
      name: 'sluice_state_bytes',
      help: 'Estimated heap bytes of that state (within 2x; for trends).',
      labelNames: app,
      registers,
    })
    this.lastBatchCompleted = new Gauge({
      name: 'sluice_last_batch_completed_timestamp_seconds',
      help: 'Unix time at which the last batch completed; alert on time() minus this.',
      labelNames: app,
      registers,
    })
    this.sinkTransactions = new Counter({
      name: 'sluice_sink_transactions_total',
      help: 'Batches written by exactly-once sinks, by sink kind and outcome.',
      labelNames: ['app', 'sink', 'outcome'] as const,
      registers,
    })
    this.outputDuration = new Histogram({
      name: 'sluice_output_duration_seconds',
      help: 'Duration of each output operation per batch; output is "<index>:<name>".',
      labelNames: ['app', 'output'] as const,
      buckets: delayBuckets,
      registers,
    })
  }

  /**
   * Starts keeping the series of `app`: the counters appear at 0 at once, so a dashboard
   * shows a job before its first batch. Returns the listener to add to the context and the
   * function that stops it.
   */
  listen(app: string): { listener: StreamingListener; stop(): Promise<void> } {
    if (this.#apps.size === 0) subscribe(sinkBatchChannelName, this.#onSinkBatch)
    this.#apps.add(app)
    const labels = { app }
    for (const counter of [
      this.recordsTotal,
      this.batchesCompleted,
      this.batchesFailed,
      this.batchesReplayed,
      this.recordsLost,
      this.recordsSkipped,
      this.recordsDeadLettered,
    ]) {
      counter.inc(labels, 0)
    }
    let listening = true
    const listener: StreamingListener = {
      onBatchCompleted: (info: BatchInfo) => {
        if (listening) this.#completed(info.progress)
      },
      onBatchFailed: (info: FailedBatchInfo) => {
        if (!listening) return
        this.batchesFailed.inc(labels)
        this.#outputs(info.progress)
      },
    }
    const stop = async () => {
      if (!listening) return
      listening = false
      this.#apps.delete(app)
      if (this.#apps.size === 0) unsubscribe(sinkBatchChannelName, this.#onSinkBatch)
      await this.#removeGauges(app)
    }
    return { listener, stop }
  }

  #completed(progress: BatchProgress): void {
    const labels = { app: progress.app }
    this.batchRecords.set(labels, progress.numInputRecords)
    this.recordsTotal.inc(labels, progress.numInputRecords)
    this.schedulingDelay.observe(labels, progress.schedulingDelayMs / 1000)
    this.processingTime.observe(labels, progress.processingTimeMs / 1000)
    this.totalDelay.observe(labels, progress.totalDelayMs / 1000)
    this.inputRate.set(labels, progress.inputRecordsPerSecond)
    this.batchesCompleted.inc(labels)
    if (progress.replay) this.batchesReplayed.inc(labels)
    this.recordsLost.inc(labels, progress.lostRecords)
    this.recordsSkipped.inc(labels, progress.skippedRecords)
    this.recordsDeadLettered.inc(labels, progress.deadLetteredRecords)
    this.stateKeys.set(labels, progress.state.keys)
    this.stateBytes.set(labels, progress.state.bytes)
    this.lastBatchCompleted.set(labels, Date.now() / 1000)
    for (const source of progress.sources) {
      const sourceLabels = { app: progress.app, input: source.input }
      if (source.rateLimit === null) this.rateLimit.remove(sourceLabels)
      else this.rateLimit.set(sourceLabels, source.rateLimit)
      for (const p of source.partitions) {
        const partitionLabels = { ...sourceLabels, topic: p.topic, partition: String(p.partition) }
        this.partitionCommittedOffset.set(partitionLabels, Number(p.untilOffset))
        if (p.latestOffset !== null) this.partitionLatestOffset.set(partitionLabels, Number(p.latestOffset))
        if (p.lag !== null) this.partitionLag.set(partitionLabels, Number(p.lag))
      }
    }
    this.#outputs(progress)
  }

  #outputs(progress: BatchProgress): void {
    for (const output of progress.outputs) {
      this.outputDuration.observe(
        { app: progress.app, output: `${output.index}:${output.name}` },
        output.durationMs / 1000,
      )
    }
  }

  #sinkBatch(message: unknown): void {
    if (typeof message !== 'object' || message === null) return
    const { app, sink, outcome } = message as Partial<SinkBatchEvent>
    if (typeof app !== 'string' || typeof sink !== 'string' || typeof outcome !== 'string') return
    this.sinkTransactions.inc({ app, sink, outcome })
  }

  /** A stopped job's gauges would otherwise report its last values for as long as the process lives. */
  async #removeGauges(app: string): Promise<void> {
    const gauges: Gauge<string>[] = [
      this.batchRecords,
      this.partitionLag,
      this.partitionLatestOffset,
      this.partitionCommittedOffset,
      this.inputRate,
      this.rateLimit,
      this.stateKeys,
      this.stateBytes,
      this.lastBatchCompleted,
    ]
    for (const gauge of gauges) {
      const { values } = await gauge.get()
      for (const value of values) if (value.labels.app === app) gauge.remove(value.labels)
    }
  }
}
