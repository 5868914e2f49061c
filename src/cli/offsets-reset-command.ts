import { ErrorCodes } from '../core/errors.ts'
import { partitionKey } from '../core/partition-key.ts'
import type { OffsetMove, StoredPosition } from '../sinks/offsets-admin.ts'
import { defineCommand } from './command.ts'
import { ArgumentError, booleanFlag, stringFlag, UsageError } from './flags.ts'
import { checkStoreFlags, storeFlags } from './offset-store.ts'
import { checkSelection, selectionFlags, selects, toFlag } from './reset-target.ts'

/** `sluice offsets reset`: move the positions a sink stores, as kafka-consumer-groups --reset-offsets does. */
export const offsetsResetCommand = defineCommand({
  name: 'reset',
  summary: 'move the positions a sink stores for a stopped app',
  description:
    "Move the offsets an exactly-once sink stores for an app — every stored partition, one topic's " +
    "(--topic) or one partition's (--topic and --partition) — to the log start, the latest offset, the " +
    'first offset at or after a time, or those of a JSON file. --dry-run prints the before/after table and ' +
    "writes nothing. It refuses while a batch is being written (the SQL sink's rows are locked, the Kafka " +
    "sink's transaction is open, or the group has members); a job still running between batches stops at " +
    'its next one (SLUICE_SINK_OFFSET_MISMATCH or SLUICE_FENCED) instead of overwriting the reset. A job ' +
    'with a checkpoint resumes from the checkpoint: reset both (docs/operations.md).',
  flags: {
    ...storeFlags,
    to: toFlag,
    ...selectionFlags,
    checkpoint: stringFlag({ value: 'DIR', description: "refuse while a job holds this checkpoint's lock" }),
    'dry-run': booleanFlag('print the before/after table only'),
  },
  examples: [
    'sluice offsets reset --app wc --sqlite counts.db --to earliest --source-brokers 127.0.0.1:9092 --dry-run',
    'sluice offsets reset --app wc --brokers 127.0.0.1:9092 --to offsets.json --topic words',
  ],
  async run({ flags, io }) {
    checkStoreFlags(flags)
    checkSelection(flags)
    const target = flags.to
    const { openStore, sourceClient } = await import('./offset-store.ts')
    const { readOffsetsFile, resolveTarget } = await import('./reset-target.ts')
    const { resetTable } = await import('./reset-table.ts')
    if (flags.checkpoint !== undefined) await refuseWhileCheckpointLocked(flags.checkpoint)
    const fileOffsets = target.kind === 'file' ? await readOffsetsFile(target.path) : undefined
    const client = await sourceClient(flags)
    if (client === undefined && target.kind !== 'file') {
      throw new UsageError(
        `--to ${target.kind === 'timestamp' ? target.text : target.kind} needs --source-brokers (the cluster the job reads)`,
      )
    }
    const store = await openStore(flags)
    try {
      const plan = async (current: readonly StoredPosition[]): Promise<OffsetMove[]> => {
        const chosen = current
          .filter((p) => selects(flags, p))
          .filter((p) => fileOffsets === undefined || fileOffsets.has(partitionKey(p.topic, p.partition)))
        const known = new Set(current.map((p) => partitionKey(p.topic, p.partition)))
        const unknown = [...(fileOffsets?.values() ?? [])].filter(
          (p) => !known.has(partitionKey(p.topic, p.partition)),
        )
        if (unknown.length > 0) {
          throw new ArgumentError(
            ErrorCodes.INVALID_ARGUMENT,
            `the offsets file names ${describe(unknown)}, which ${store.where} has no offset for ` +
              `(app '${store.app}'; it has ${describe(current)})`,
          )
        }
        if (chosen.length === 0) {
          throw new UsageError(
            current.length === 0
              ? `${store.where} stores no offsets for app '${store.app}': nothing to reset`
              : `no stored offset matches${flags.topic === undefined ? '' : ` topic '${flags.topic}'`}` +
                  `${flags.partition === undefined ? '' : ` partition ${flags.partition}`} (${store.where} has ${describe(current)})`,
          )
        }
        const resolved = await resolveTarget(target, chosen, client, fileOffsets)
        const lines = chosen.map((p) => ({
          topic: p.topic,
          partition: p.partition,
          current: p.offset,
          next: resolved.get(partitionKey(p.topic, p.partition))!,
        }))
        io.stdout(resetTable(lines, client !== undefined))
        return lines.map((l) => ({
          topic: l.topic,
          partition: l.partition,
          from: l.current,
          to: l.next.offset,
        }))
      }
      const moves = await store.reset(plan, { dryRun: flags['dry-run'] })
      if (target.kind === 'file' && client === undefined) {
        io.stderr(
          'warning: the offsets were not checked against the log: pass --source-brokers to check them\n',
        )
      }
      io.stdout(
        flags['dry-run']
          ? 'dry run: nothing was written; run it again without --dry-run to apply it\n'
          : `reset ${moves.length} offset(s) of app '${store.app}' in ${store.where}: a job that resumes from ` +
              'the sink reads from the NEW positions\n',
      )
      return 0
    } finally {
      await Promise.all([store.close(), client?.close()])
    }
  },
})

function describe(positions: readonly { topic: string; partition: number }[]): string {
  return positions.map((p) => `${p.topic}-${p.partition}`).join(', ') || 'none'
}

async function refuseWhileCheckpointLocked(dir: string): Promise<void> {
  const { readLockHolder } = await import('../checkpoint/checkpoint-lock.ts')
  const { ErrorCodes, SluiceError } = await import('../core/errors.ts')
  const { resolve } = await import('node:path')
  const lock = await readLockHolder(resolve(dir))
  if (lock === undefined || 'unreadable' in lock || lock.alive === false) return
  throw new SluiceError(
    ErrorCodes.OFFSETS_IN_USE,
    `checkpoint '${resolve(dir)}' is locked by process ${lock.owner.pid} on host '${lock.owner.hostname}': ` +
      'its job is running; stop it first; nothing was reset',
    { details: { dir, pid: lock.owner.pid, hostname: lock.owner.hostname } },
  )
}
