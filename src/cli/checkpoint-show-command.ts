import type { CheckpointView } from '../checkpoint/checkpoint-reader.ts'
import type { JsonValue } from '../checkpoint/json-value.ts'
import { partitionKey } from '../core/partition-key.ts'
import type { InputPositions, PartitionPosition } from './checkpoint-positions.ts'
import { defineCommand } from './command.ts'
import { booleanFlag, rethrowAsArgumentError, stringFlag } from './flags.ts'
import { boundsColumns, boundsJson, type LogBounds } from './log-offsets.ts'
import { textTable } from './text-table.ts'

/** `sluice checkpoint show`: where a job stands, read without its lock. */
export const checkpointShowCommand = defineCommand({
  name: 'show',
  summary: "a checkpoint's app, batches, positions and state snapshots (read-only)",
  description:
    'Show what a checkpoint directory holds: the application, the format version, the lock holder, the ' +
    'last planned and last committed batch, the position of every topic-partition of every input (where ' +
    'the next start reads from: a pending batch is re-run from its from-offsets; parked partitions are ' +
    'those the subscription no longer covers), and the state snapshots of stateful streams. It never ' +
    'takes the lock and never writes, so it works while the job runs. With --brokers it also shows each ' +
    "partition's log start, latest offset (the last stable one) and lag. --json prints the same as one " +
    'JSON object (described in docs/operations.md).',
  positionals: [{ name: 'dir', description: 'the checkpoint directory' }],
  flags: {
    json: booleanFlag('print one JSON object instead of text'),
    brokers: stringFlag({
      value: 'HOST:PORT[,...]',
      description: 'also show log offsets and lag from this cluster',
    }),
  },
  examples: [
    'sluice checkpoint show ./ckpt',
    'sluice checkpoint show ./ckpt --brokers 127.0.0.1:9092 --json',
  ],
  async run({ flags, positionals, io }) {
    const { readCheckpoint } = await import('../checkpoint/checkpoint-reader.ts')
    const { inputPositions } = await import('./checkpoint-positions.ts')
    const view = await readCheckpoint(positionals[0]!).catch(rethrowAsArgumentError)
    const inputs = inputPositions(view)
    const bounds = flags.brokers === undefined ? undefined : await boundsOf(flags.brokers, inputs)
    io.stdout(
      flags.json
        ? `${JSON.stringify(showJson(view, inputs, bounds), null, 2)}\n`
        : showText(view, inputs, bounds),
    )
    return 0
  },
})

async function boundsOf(brokers: string, inputs: readonly InputPositions[]): Promise<Map<string, LogBounds>> {
  const { KafkaClient } = await import('../kafka/client.ts')
  const { cliLogger } = await import('./cli-logger.ts')
  const { logBounds } = await import('./log-offsets.ts')
  const client = new KafkaClient({ brokers: brokers.split(','), logger: cliLogger() })
  try {
    return await logBounds(
      client,
      inputs.flatMap((input) => input.partitions),
    )
  } finally {
    await client.close()
  }
}

const iso = (ms: number) => new Date(ms).toISOString()

function lockJson(view: CheckpointView): JsonValue {
  const { lock } = view
  if (lock === undefined) return null
  if ('unreadable' in lock) return { unreadable: true }
  const { pid, hostname, startedAt } = lock.owner
  return { pid, hostname, startedAt: iso(startedAt), alive: lock.alive ?? null }
}

function partitionJson(p: PartitionPosition, bounds: Map<string, LogBounds> | undefined): JsonValue {
  const bound = bounds?.get(partitionKey(p.topic, p.partition))
  return {
    topic: p.topic,
    partition: p.partition,
    position: p.position.toString(),
    parked: p.parked,
    pendingRange:
      p.pendingRange === undefined
        ? null
        : {
            fromOffset: p.pendingRange.fromOffset.toString(),
            untilOffset: p.pendingRange.untilOffset.toString(),
          },
    latestSeen: p.latestSeen === undefined ? null : p.latestSeen.toString(),
    ...boundsJson(p.position, bound),
  }
}

/** The `--json` document; its shape is documented in docs/operations.md and kept stable. */
export function showJson(
  view: CheckpointView,
  inputs: readonly InputPositions[],
  bounds: Map<string, LogBounds> | undefined,
): JsonValue {
  const planned = view.lastPlanned
  const committed = view.lastCommitted
  return {
    dir: view.dir,
    app: view.metadata.appName,
    formatVersion: view.metadata.version,
    createdAt: iso(view.metadata.createdAt),
    lock: lockJson(view),
    offsetLog: view.offsetLog === undefined ? null : { ...view.offsetLog },
    commitLog: view.commitLog === undefined ? null : { ...view.commitLog },
    lastPlanned:
      planned === undefined
        ? null
        : {
            batchId: planned.batchId,
            batchTime: iso(planned.batchTime),
            pending: view.pending !== undefined,
          },
    lastCommitted:
      committed === undefined
        ? null
        : {
            batchId: committed.batchId,
            committedAt: iso(committed.committedAt),
            ...(committed.info === undefined ? {} : { info: committed.info }),
          },
    inputs: inputs.map((input) => ({
      name: input.name,
      kind: input.kind,
      ...(input.rateLimit === undefined ? {} : { rateLimit: input.rateLimit }),
      partitions: input.partitions.map((p) => partitionJson(p, bounds)),
      ...(input.state === undefined ? {} : { state: input.state }),
    })),
    stateSnapshots: view.stateStreams.map((s) => ({
      stream: s.stream,
      batchIds: [...s.batchIds],
      newest: snapshotJson(s.newest),
    })),
  }
}

function snapshotJson(newest: CheckpointView['stateStreams'][number]['newest']): JsonValue {
  if (newest === undefined) return null
  if ('error' in newest) return { batchId: newest.batchId, error: newest.error }
  return {
    batchId: newest.batchId,
    batchTime: iso(newest.batchTime),
    keys: newest.entries,
    bytes: newest.bytes,
  }
}

function lockText(view: CheckpointView): string {
  const { lock } = view
  if (lock === undefined) return 'free (no job uses this directory)'
  if ('unreadable' in lock) return 'the lock file is unreadable: delete it if no job uses this directory'
  const { pid, hostname, startedAt } = lock.owner
  const state =
    lock.alive === true
      ? 'running'
      : lock.alive === false
        ? 'not running: a stale lock, taken over by the next start'
        : 'another host: cannot be checked from here'
  return `held by process ${pid} on host '${hostname}' since ${iso(startedAt)} (${state})`
}

function extentText(extent: CheckpointView['offsetLog']): string {
  if (extent === undefined) return 'empty'
  return `batches ${extent.first} to ${extent.last} (${extent.count} kept)`
}

/** The text `show` prints. */
export function showText(
  view: CheckpointView,
  inputs: readonly InputPositions[],
  bounds: Map<string, LogBounds> | undefined,
): string {
  const planned = view.lastPlanned
  const committed = view.lastCommitted
  const facts: [string, string][] = [
    ['checkpoint', view.dir],
    ['app', view.metadata.appName],
    ['format', String(view.metadata.version)],
    ['created', iso(view.metadata.createdAt)],
    ['lock', lockText(view)],
    ['offset log', extentText(view.offsetLog)],
    ['commit log', extentText(view.commitLog)],
    [
      'last planned',
      planned === undefined
        ? 'none'
        : `batch ${planned.batchId} for ${iso(planned.batchTime)}` +
          (view.pending === undefined ? '' : ' — pending: planned, not committed; the next start re-runs it'),
    ],
    [
      'last committed',
      committed === undefined
        ? 'none'
        : `batch ${committed.batchId} at ${iso(committed.committedAt)}` +
          (committed.info === undefined ? '' : ` ${JSON.stringify(committed.info)}`),
    ],
  ]
  const width = Math.max(...facts.map(([name]) => name.length)) + 2
  let text = facts.map(([name, value]) => `${name.padEnd(width)}${value}\n`).join('')
  for (const input of inputs) {
    const rate =
      input.rateLimit === undefined
        ? ''
        : input.rateLimit === null
          ? ', no rate limit'
          : `, rate limit ${Math.round(input.rateLimit).toLocaleString('en')} records/s`
    text += `\ninput ${input.name} (${input.kind})${rate}\n`
    if (input.partitions.length > 0) text += partitionsTable(input.partitions, bounds)
    if (input.state !== undefined && input.kind !== 'kafka-direct')
      text += `state ${JSON.stringify(input.state)}\n`
  }
  if (inputs.length === 0) text += '\nno batch yet: no positions\n'
  if (view.stateStreams.length > 0) {
    text += '\nstate snapshots\n'
    text += textTable(
      ['STREAM', 'SNAPSHOTS (BATCH IDS)', 'NEWEST', 'KEYS', 'BYTES'],
      view.stateStreams.map((s) => {
        const newest = s.newest
        return [
          s.stream,
          s.batchIds.length === 0 ? 'none' : s.batchIds.join(', '),
          newest === undefined ? '-' : String(newest.batchId),
          newest === undefined
            ? '-'
            : 'error' in newest
              ? `unreadable: ${newest.error}`
              : newest.entries.toLocaleString('en'),
          newest === undefined || 'error' in newest ? '-' : newest.bytes.toLocaleString('en'),
        ]
      }),
      [2, 3, 4],
    )
  }
  return text
}

function partitionsTable(
  partitions: readonly PartitionPosition[],
  bounds: Map<string, LogBounds> | undefined,
): string {
  const header = ['TOPIC', 'PARTITION', 'POSITION', 'PENDING RANGE']
  if (bounds !== undefined) header.push('LOG START', 'LATEST', 'LAG')
  const rows = partitions.map((p) => {
    const row = [
      p.parked ? `${p.topic} (parked)` : p.topic,
      String(p.partition),
      p.position.toString(),
      p.pendingRange === undefined ? '-' : `[${p.pendingRange.fromOffset}, ${p.pendingRange.untilOffset})`,
    ]
    if (bounds !== undefined) {
      row.push(...boundsColumns(p.position, bounds.get(partitionKey(p.topic, p.partition))))
    }
    return row
  })
  return textTable(header, rows, bounds === undefined ? [1, 2] : [1, 2, 4, 5, 6])
}
