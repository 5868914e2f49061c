import type { KafkaClient } from '../kafka/client.ts'
import type { OffsetsAdmin } from '../sinks/offsets-admin.ts'
import { rethrowAsArgumentError, stringFlag, UsageError } from './flags.ts'

/** The flags that say whose offsets and where: the app, and one sink's store. */
export const storeFlags = {
  app: stringFlag({ value: 'APP', description: "the job's app name, as given to its sink", required: true }),
  sqlite: stringFlag({ value: 'FILE', description: "the SQL sink's SQLite file" }),
  postgres: stringFlag({
    value: 'URL',
    description: "the SQL sink's PostgreSQL (postgresql://user:pass@host/db)",
  }),
  brokers: stringFlag({
    value: 'HOST:PORT[,...]',
    description: "the Kafka sink's cluster (its group sluice-<app>)",
  }),
  table: stringFlag({
    value: 'TABLE',
    description: "the SQL sink's offsetsTable",
    default: 'sluice_offsets',
  }),
  group: stringFlag({ value: 'GROUP', description: "the Kafka sink's groupId (default sluice-<app>)" }),
  'transactional-id': stringFlag({
    value: 'ID',
    description: "the Kafka sink's transactionalId (default sluice-<app>)",
  }),
  'source-brokers': stringFlag({
    value: 'HOST:PORT[,...]',
    description: 'the cluster the job reads, for log offsets (default: --brokers)',
  }),
}

export interface StoreFlags {
  readonly app: string
  readonly sqlite?: string | undefined
  readonly postgres?: string | undefined
  readonly brokers?: string | undefined
  readonly table: string
  readonly group?: string | undefined
  readonly 'transactional-id'?: string | undefined
  readonly 'source-brokers'?: string | undefined
}

/** Checks the store flags before anything connects: exactly one store, with its own options. */
export function checkStoreFlags(flags: StoreFlags): void {
  const stores = (['sqlite', 'postgres', 'brokers'] as const).filter((name) => flags[name] !== undefined)
  if (stores.length !== 1) {
    throw new UsageError(
      stores.length === 0
        ? 'give the store: --sqlite FILE, --postgres URL or --brokers HOST:PORT'
        : `give one store, not ${stores.map((s) => `--${s}`).join(' and ')}`,
    )
  }
  if (flags.brokers === undefined) {
    for (const kafkaOnly of ['group', 'transactional-id'] as const) {
      if (flags[kafkaOnly] !== undefined)
        throw new UsageError(`option '--${kafkaOnly}' is for a Kafka sink's offsets (--brokers)`)
    }
  } else if (flags.table !== 'sluice_offsets') {
    throw new UsageError("option '--table' is for a SQL sink's offsets (--sqlite or --postgres)")
  }
}

/** Opens the store the flags name (checked). */
export async function openStore(flags: StoreFlags): Promise<OffsetsAdmin> {
  const { cliLogger } = await import('./cli-logger.ts')
  const logger = cliLogger()
  if (flags.brokers !== undefined) {
    const { KafkaOffsetsAdmin } = await import('../sinks/kafka-offsets-admin.ts')
    return new KafkaOffsetsAdmin({
      app: flags.app,
      brokers: flags.brokers.split(','),
      ...(flags.group === undefined ? {} : { groupId: flags.group }),
      ...(flags['transactional-id'] === undefined ? {} : { transactionalId: flags['transactional-id'] }),
      logger,
    })
  }
  const { SqlOffsetsAdmin } = await import('../sinks/sql/sql-offsets-admin.ts')
  return await SqlOffsetsAdmin.open({
    app: flags.app,
    ...(flags.sqlite === undefined ? {} : { sqlite: { path: flags.sqlite } }),
    ...(flags.postgres === undefined ? {} : { postgres: { connectionString: flags.postgres } }),
    table: flags.table,
    logger,
  }).catch(rethrowAsArgumentError)
}

/** A client of the cluster the job reads, when the flags name one. */
export async function sourceClient(flags: StoreFlags): Promise<KafkaClient | undefined> {
  const brokers = flags['source-brokers'] ?? flags.brokers
  if (brokers === undefined) return undefined
  const { KafkaClient } = await import('../kafka/client.ts')
  const { cliLogger } = await import('./cli-logger.ts')
  return new KafkaClient({ brokers: brokers.split(','), logger: cliLogger() })
}
