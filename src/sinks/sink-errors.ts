import { ErrorCodes, isSluiceError, messageOf, SluiceError } from '../core/errors.ts'
import { describeOwner, type PartitionOwner } from '../kafka/partition-owner.ts'
import { describeRange, type SinkBatch } from './batch.ts'
import type { OffsetCheck } from './offset-check.ts'

/**
 * The errors every sink raises, worded once. `store` says where the offsets live, e.g.
 * `table sluice_offsets` or `consumer group 'sluice-wordcount'`.
 */

function stored(value: bigint | undefined): string {
  return value === undefined ? 'no stored offset' : `stored offset ${value}`
}

/** The stored offsets do not line up with the batch: nothing was written. */
export function offsetMismatchError(
  app: string,
  batch: SinkBatch,
  check: Extract<OffsetCheck, { kind: 'mismatch' | 'partly-applied' }>,
  store: string,
): SluiceError {
  const prefix = `batch ${batch.id} of app '${app}' does not line up with the offsets in ${store}`
  if (check.kind === 'partly-applied') {
    const { applied, pending } = check
    return new SluiceError(
      ErrorCodes.SINK_OFFSET_MISMATCH,
      `${prefix}: ${applied.topic}-${applied.partition} is at offset ${applied.untilOffset} (the batch's until-offset, ` +
        `so the batch was applied) but ${pending.topic}-${pending.partition} has ${stored(check.stored)} ` +
        `(the batch reads ${describeRange(pending)}); another instance of app '${app}' that plans other batches ` +
        `may be writing, or the checkpoint and ${store} disagree; this instance must stop; nothing was written`,
      {
        details: {
          app,
          batchId: batch.id,
          topic: pending.topic,
          partition: pending.partition,
          fromOffset: pending.fromOffset,
          untilOffset: pending.untilOffset,
          storedOffset: check.stored,
        },
      },
    )
  }
  const { range } = check
  // Say what the mismatch means and its likely causes: the loser of a race between two
  // instances lands here when the winner has moved on by more than this batch.
  const what =
    check.stored !== undefined && check.stored < range.fromOffset
      ? `offsets ${check.stored} to ${range.fromOffset - 1n} would never be written (a gap): the stream did not ` +
        `start from the sink's offsets (startingOffsets, or a checkpoint of another deployment), or ${store} ` +
        'was reset or restored to older offsets'
      : `records before offset ${check.stored} were already written by another run: another instance of app ` +
        `'${app}' is writing (a second deployment, or this instance stalled and was replaced), or this stream ` +
        'restarted from an older checkpoint; this instance must stop'
  return new SluiceError(
    ErrorCodes.SINK_OFFSET_MISMATCH,
    `${prefix}: it reads ${describeRange(range)} but ${range.topic}-${range.partition} has ${stored(check.stored)} ` +
      `(expected ${range.fromOffset} before the batch, or ${range.untilOffset} after it); ${what}; nothing was written`,
    {
      details: {
        app,
        batchId: batch.id,
        topic: range.topic,
        partition: range.partition,
        fromOffset: range.fromOffset,
        untilOffset: range.untilOffset,
        storedOffset: check.stored,
      },
    },
  )
}

/** A first run of a batch found it already applied: another live instance got there first. */
export function alreadyAppliedByAnotherError(app: string, batch: SinkBatch, store: string): SluiceError {
  return new SluiceError(
    ErrorCodes.FENCED,
    `batch ${batch.id} of app '${app}' was already applied by another instance (${store} holds its until-offsets) ` +
      'although this run is not a replay; this instance has been fenced and must stop',
    { details: { app, batchId: batch.id } },
  )
}

/** The user's write function (or the store) failed; the transaction was rolled back. */
export function batchWriteError(
  app: string,
  batch: SinkBatch,
  error: unknown,
  what = 'the write function',
): SluiceError {
  return new SluiceError(
    ErrorCodes.SINK,
    `batch ${batch.id} of app '${app}' was not written: ${what} failed: ${messageOf(error)}; nothing of the batch was applied`,
    {
      cause: error,
      retriable: isSluiceError(error) ? error.retriable : false,
      details: { app, batchId: batch.id },
    },
  )
}

/** Transient failures (connection lost, server down, lock held) lasted longer than the retry budget. */
export function retriesExhaustedError(
  app: string,
  batch: SinkBatch,
  target: string,
  timeoutMs: number,
  exhausted: { readonly attempts: number; readonly lastError: unknown },
): SluiceError {
  return new SluiceError(
    ErrorCodes.SINK,
    `batch ${batch.id} of app '${app}' was not written: ${target} kept failing for ${timeoutMs} ms ` +
      `(retryTimeoutMs, ${exhausted.attempts} attempts): ${causeChainMessage(exhausted.lastError)}; ` +
      'nothing of the batch was applied; restart when the database is back and the batch runs again',
    {
      cause: exhausted.lastError,
      retriable: true,
      details: { app, batchId: batch.id, target, attempts: exhausted.attempts },
    },
  )
}

/** An error's message followed by its causes' messages that add something, for wrapped driver errors. */
function causeChainMessage(error: unknown): string {
  let text = messageOf(error)
  let current = (error as { cause?: unknown } | null)?.cause
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth++) {
    const message = messageOf(current)
    if (!text.includes(message)) text += ` (${message})`
    current = (current as { cause?: unknown }).cause
  }
  return text
}

export function notStartedError(kind: string, app: string): SluiceError {
  return new SluiceError(
    ErrorCodes.SINK,
    `the ${kind} sink of app '${app}' is not started; call start() first`,
    {
      details: { app },
    },
  )
}

export function closedError(kind: string, app: string): SluiceError {
  return new SluiceError(ErrorCodes.CLOSED, `the ${kind} sink of app '${app}' is closed`, {
    details: { app },
  })
}

/**
 * A batch found partitions whose stored owner is not its own: a process of a newer generation
 * (or deployment epoch) claimed them, so this one lost them. Nothing was written.
 */
export function partitionsRevokedError(
  app: string,
  batch: SinkBatch,
  owner: PartitionOwner,
  partitions: readonly { readonly topic: string; readonly partition: number }[],
  store: string,
): SluiceError {
  const names = partitions.map((p) => `${p.topic}-${p.partition}`).join(', ')
  return new SluiceError(
    ErrorCodes.PARTITIONS_REVOKED,
    `batch ${batch.id} of app '${app}' was not written: ${store} says that ${names} no longer belong to ` +
      `${describeOwner(owner)} (another process claimed them since: a newer generation, or a restart of the same instance); nothing of the batch was applied`,
    {
      details: {
        app,
        batchId: batch.id,
        groupId: owner.groupId,
        generation: owner.generation,
        memberId: owner.memberId,
        partitions: partitions.map((p) => ({ topic: p.topic, partition: p.partition })),
      },
    },
  )
}

/**
 * The batch's signal aborted while it was being written: its partitions are being taken away
 * (a rebalance that could not wait), or the stream is stopping without waiting. Rolled back.
 */
export function batchAbandonedError(app: string, batch: SinkBatch, reason: unknown): SluiceError {
  const revoked = isSluiceError(reason, ErrorCodes.PARTITIONS_REVOKED)
  return new SluiceError(
    revoked ? ErrorCodes.PARTITIONS_REVOKED : ErrorCodes.SINK,
    `batch ${batch.id} of app '${app}' was abandoned and rolled back: ${messageOf(reason)}; nothing of the batch was applied`,
    { cause: reason, details: { app, batchId: batch.id } },
  )
}
