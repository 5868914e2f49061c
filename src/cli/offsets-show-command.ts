import type { JsonValue } from '../checkpoint/json-value.ts'
import { partitionKey } from '../core/partition-key.ts'
import type { StoredPosition } from '../sinks/offsets-admin.ts'
import { defineCommand } from './command.ts'
import { booleanFlag } from './flags.ts'
import { boundsColumns, boundsJson, type LogBounds } from './log-offsets.ts'
import { checkStoreFlags, storeFlags } from './offset-store.ts'
import { textTable } from './text-table.ts'

/** `sluice offsets show`: the positions a sink stores for a job that runs without a checkpoint. */
export const offsetsShowCommand = defineCommand({
  name: 'show',
  summary: 'the positions a sink stores for an app (SQL offsets table or Kafka group)',
  description:
    'Show the offsets an exactly-once sink stores for an app — the until-offset of the last batch it wrote, ' +
    'per partition: where a job without a checkpoint resumes (startingOffsets: await sink.storedOffsets()). ' +
    "For the SQL sink (--sqlite or --postgres): its offsets table's rows, with the batch that wrote each and " +
    "the records lost to retention. For the Kafka sink (--brokers): its group's committed offsets, and " +
    "whether the group or the sink's transactional id is in use. With a cluster to ask (--source-brokers, " +
    "or --brokers), also each partition's log start, latest offset and lag. Read-only.",
  flags: { ...storeFlags, json: booleanFlag('print one JSON object instead of text') },
  examples: [
    'sluice offsets show --app wordcount --sqlite counts.db --source-brokers 127.0.0.1:9092',
    'sluice offsets show --app wordcount --brokers 127.0.0.1:9092 --json',
  ],
  async run({ flags, io }) {
    checkStoreFlags(flags)
    const { openStore, sourceClient } = await import('./offset-store.ts')
    const { logBounds } = await import('./log-offsets.ts')
    const store = await openStore(flags)
    const client = await sourceClient(flags)
    try {
      const positions = await store.read()
      const activity = await store.activity()
      const bounds = client === undefined ? undefined : await logBounds(client, positions)
      if (flags.json) {
        io.stdout(
          `${JSON.stringify(showJson(store.app, store.where, activity, positions, bounds), null, 2)}\n`,
        )
        return 0
      }
      io.stdout(`offsets of app '${store.app}' in ${store.where}\n`)
      for (const line of activity) io.stdout(`${line}\n`)
      io.stdout(
        positions.length === 0 ? 'no offsets stored for this app\n' : positionsTable(positions, bounds),
      )
      return 0
    } finally {
      await Promise.all([store.close(), client?.close()])
    }
  },
})

function boundsOf(p: StoredPosition, bounds: Map<string, LogBounds> | undefined): LogBounds | undefined {
  return bounds?.get(partitionKey(p.topic, p.partition))
}

function showJson(
  app: string,
  where: string,
  activity: readonly string[],
  positions: readonly StoredPosition[],
  bounds: Map<string, LogBounds> | undefined,
): JsonValue {
  return {
    app,
    store: where,
    activity: [...activity],
    partitions: positions.map((p) => {
      const bound = boundsOf(p, bounds)
      return {
        topic: p.topic,
        partition: p.partition,
        offset: p.offset.toString(),
        batchId: p.batchId ?? null,
        batchTime: p.batchTime === undefined ? null : new Date(p.batchTime).toISOString(),
        lostRecords: (p.lostRecords ?? 0n).toString(),
        ...boundsJson(p.offset, bound),
      }
    }),
  }
}

function positionsTable(
  positions: readonly StoredPosition[],
  bounds: Map<string, LogBounds> | undefined,
): string {
  const withBatches = positions.some((p) => p.batchTime !== undefined)
  const header = [
    'TOPIC',
    'PARTITION',
    'OFFSET',
    ...(withBatches ? ['LAST BATCH', 'BATCH TIME'] : []),
    'LOST',
  ]
  if (bounds !== undefined) header.push('LOG START', 'LATEST', 'LAG')
  const rows = positions.map((p) => {
    const row = [
      p.topic,
      String(p.partition),
      p.offset.toString(),
      ...(withBatches
        ? [String(p.batchId ?? '-'), p.batchTime === undefined ? '-' : new Date(p.batchTime).toISOString()]
        : []),
      (p.lostRecords ?? 0n).toString(),
    ]
    if (bounds !== undefined) {
      row.push(...boundsColumns(p.offset, boundsOf(p, bounds)))
    }
    return row
  })
  const numbers = [1, 2, ...(withBatches ? [3] : []), withBatches ? 5 : 3]
  const last = header.length
  return textTable(header, rows, bounds === undefined ? numbers : [...numbers, last - 3, last - 2, last - 1])
}
