import type { CheckpointView } from '../checkpoint/checkpoint-reader.ts'
import { partitionKey } from '../core/partition-key.ts'
import type { KafkaClient } from '../kafka/client.ts'
import type { ResetBase } from './checkpoint-reset.ts'
import { type CliIo, defineCommand } from './command.ts'
import { booleanFlag, rethrowAsArgumentError, stringFlag } from './flags.ts'
import { resetTable } from './reset-table.ts'
import { checkSelection, selectionFlags, targetText, toFlag } from './reset-target.ts'

/** `sluice checkpoint reset`: move a stopped job's positions, as kafka-consumer-groups --reset-offsets does. */
export const checkpointResetCommand = defineCommand({
  name: 'reset',
  summary: "move a stopped job's positions (earliest, latest, a time or a file of offsets)",
  description:
    "Move where a job resumes: every partition of its Kafka inputs, one topic's (--topic) or one partition's " +
    '(--topic and --partition); --input picks one input of a job with several. --dry-run prints the ' +
    'before/after table and writes nothing. The reset is recorded as a committed batch that reads nothing ' +
    '(replacing a pending batch, which is then never re-run), written durably and checksummed like every ' +
    'batch, so the next start reads exactly from the new positions. It refuses while a job holds the ' +
    "checkpoint's lock. A job that keeps state or whose sink stores offsets is warned: see docs/operations.md.",
  positionals: [{ name: 'dir', description: 'the checkpoint directory' }],
  flags: {
    to: toFlag,
    ...selectionFlags,
    input: stringFlag({ value: 'NAME', description: 'only this input (default: every Kafka input)' }),
    brokers: stringFlag({
      value: 'HOST:PORT[,...]',
      description: 'the cluster the job reads (needed for earliest, latest and times; checks file offsets)',
    }),
    'dry-run': booleanFlag('print the before/after table only'),
  },
  examples: [
    'sluice checkpoint reset ./ckpt --to latest --brokers 127.0.0.1:9092 --dry-run',
    'sluice checkpoint reset ./ckpt --to 2024-05-01T12:00:00Z --topic words --brokers 127.0.0.1:9092',
    'sluice checkpoint reset ./ckpt --to offsets.json   # {"words": {"0": 1043}}: past a bad record',
  ],
  async run({ flags, positionals, io }) {
    checkSelection(flags)
    const target = flags.to
    const { readCheckpoint } = await import('../checkpoint/checkpoint-reader.ts')
    const { CheckpointStore } = await import('../checkpoint/checkpoint-store.ts')
    const { selectMoves, buildResetBatch, resetInfo } = await import('./checkpoint-reset.ts')
    const { readOffsetsFile, resolveTarget } = await import('./reset-target.ts')
    const { cliLogger } = await import('./cli-logger.ts')
    const view = await readCheckpoint(positionals[0]!).catch(rethrowAsArgumentError)
    const fileOffsets = target.kind === 'file' ? await readOffsetsFile(target.path) : undefined
    const logger = cliLogger()
    const dryRun = flags['dry-run']
    if (dryRun) warnIfRunning(view, io)
    // A real reset works on what it reads under the lock: the job may have moved on since.
    const store = dryRun
      ? undefined
      : await CheckpointStore.open(view.dir, { appName: view.metadata.appName, mustExist: true, logger })
    const client = await clientFor(flags.brokers)
    try {
      const base = await baseOf(view, store)
      const moves = selectMoves(base, {
        input: flags.input,
        selection: flags,
        ...(fileOffsets === undefined ? {} : { filePartitions: [...fileOffsets.values()] }),
      })
      const resolved = await resolveTarget(
        target,
        uniquePartitions(moves.map((m) => m.position)),
        client,
        fileOffsets,
      )
      const now = Date.now()
      const reset = buildResetBatch(base, moves, resolved, now)
      io.stdout(
        resetTable(
          reset.rows.map((row) => ({
            input: row.input,
            topic: row.position.topic,
            partition: row.position.partition,
            parked: row.position.parked,
            current: row.position.position,
            next: row.next,
          })),
          client !== undefined,
        ),
      )
      if (target.kind === 'file' && client === undefined) {
        io.stderr('warning: the offsets were not checked against the log: pass --brokers to check them\n')
      }
      warnAboutConsequences(view, base, io)
      if (store === undefined) {
        io.stdout('dry run: nothing was written; run it again without --dry-run to apply it\n')
        return 0
      }
      await store.writeReset(reset.batch, resetInfo(reset, base, targetText(target), now))
      io.stdout(
        `reset recorded as batch ${reset.batch.batchId} of '${view.dir}': the next start of app ` +
          `'${view.metadata.appName}' reads from the NEW positions\n`,
      )
      return 0
    } finally {
      await Promise.all([store?.close(), client?.close()])
    }
  },
})

async function clientFor(brokers: string | undefined): Promise<KafkaClient | undefined> {
  if (brokers === undefined) return undefined
  const { KafkaClient } = await import('../kafka/client.ts')
  const { cliLogger } = await import('./cli-logger.ts')
  return new KafkaClient({ brokers: brokers.split(','), logger: cliLogger() })
}

async function baseOf(
  view: CheckpointView,
  store: { recover(): Promise<{ latestEntry?: ResetBase['latest']; pendingBatch?: unknown }> } | undefined,
): Promise<ResetBase> {
  const recovered = store === undefined ? undefined : await store.recover()
  const latest = recovered === undefined ? view.lastPlanned : recovered.latestEntry
  if (latest === undefined) {
    const { SluiceError, ErrorCodes } = await import('../core/errors.ts')
    throw new SluiceError(
      ErrorCodes.CHECKPOINT,
      `checkpoint '${view.dir}' has no batch yet, so no positions to reset: the job's startingOffsets decide where it starts`,
      { details: { dir: view.dir } },
    )
  }
  const pending = recovered === undefined ? view.pending !== undefined : recovered.pendingBatch !== undefined
  return { dir: view.dir, latest, pending }
}

function uniquePartitions(positions: readonly { topic: string; partition: number }[]) {
  const seen = new Map<string, { topic: string; partition: number }>()
  for (const p of positions)
    seen.set(partitionKey(p.topic, p.partition), { topic: p.topic, partition: p.partition })
  return [...seen.values()]
}

function warnIfRunning(view: CheckpointView, io: CliIo): void {
  const lock = view.lock
  if (lock === undefined || 'unreadable' in lock || lock.alive === false) return
  io.stderr(
    `warning: process ${lock.owner.pid} on host '${lock.owner.hostname}' holds this checkpoint: its positions ` +
      'move on while it runs, and the reset itself is refused until it stops\n',
  )
}

function warnAboutConsequences(view: CheckpointView, base: ResetBase, io: CliIo): void {
  if (base.pending) {
    io.stderr(
      `warning: batch ${base.latest.batchId} is pending (planned, not committed): the reset replaces it, so it is ` +
        'never re-run; its records before the NEW positions are skipped\n',
    )
  }
  if (view.stateStreams.length > 0) {
    io.stderr(
      `warning: this job keeps state (${view.stateStreams.map((s) => s.stream).join(', ')}): the state holds what ` +
        'the records up to the CURRENT positions made of it, so moving back counts records again and moving ' +
        'forward never counts the ones skipped; delete the state snapshots too if the state must match\n',
    )
  }
  io.stderr(
    "note: if the job's sink stores offsets too (SQL or Kafka sink), move them the same way with " +
      "'sluice offsets reset', or its next batch fails with SLUICE_SINK_OFFSET_MISMATCH\n",
  )
}
