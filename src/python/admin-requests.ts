import { ErrorCodes, SluiceError } from '../core/errors.ts'
import type { Logger } from '../core/logger.ts'
import { KafkaClient } from '../kafka/client.ts'
import type { ProduceRecord } from '../kafka/types.ts'

type Params = Record<string, unknown>

/**
 * Small Kafka chores for Python programs and tests (create a topic, write records, read
 * end offsets), through the engine's own Kafka client: the Python package brings no Kafka
 * client of its own. One client per broker list, closed with the session.
 */
export class AdminRequests {
  readonly #logger: Logger
  readonly #clients = new Map<string, KafkaClient>()

  constructor(logger: Logger) {
    this.#logger = logger
  }

  async handle(method: string, params: Params): Promise<unknown> {
    const client = this.#client(params.brokers)
    switch (method) {
      case 'admin.create_topic':
        await client.createTopics([
          {
            name: String(params.topic),
            partitions: Number(params.partitions ?? 1),
            ...(params.config ? { configs: params.config as Record<string, string> } : {}),
          },
        ])
        return null
      case 'admin.delete_topic':
        await client.deleteTopics([String(params.topic)])
        return null
      case 'admin.produce': {
        // Fields other than these go on as they are, so that produce names a misspelt one.
        const records = (params.records as Params[]).map(({ topic, value, key, partition, ...rest }) => ({
          ...rest,
          topic: String(topic ?? params.topic),
          value: value ?? null,
          ...(key === undefined || key === null ? {} : { key }),
          ...(partition === undefined || partition === null ? {} : { partition }),
        })) as ProduceRecord[]
        await client.produce(records)
        return records.length
      }
      case 'admin.end_offsets': {
        const topic = String(params.topic)
        const meta = await client.metadata([topic])
        const partitions = meta.topics.get(topic)?.partitions ?? []
        const ends = await client.listOffsets(
          partitions.map((p) => ({ topic, partition: p.partition })),
          'latest',
        )
        return Object.fromEntries(ends.map((e) => [String(e.partition), e.offset]))
      }
      default:
        throw new SluiceError(ErrorCodes.INVALID_ARGUMENT, `the engine has no request '${method}'`)
    }
  }

  #client(brokers: unknown): KafkaClient {
    if (!Array.isArray(brokers) || brokers.length === 0) {
      throw new SluiceError(
        ErrorCodes.INVALID_OPTION,
        "option 'brokers' must be a non-empty list of host:port",
      )
    }
    const key = brokers.join(',')
    let client = this.#clients.get(key)
    if (!client) {
      client = new KafkaClient({
        brokers: brokers as string[],
        clientId: 'sluice-python-admin',
        logger: this.#logger,
      })
      this.#clients.set(key, client)
    }
    return client
  }

  async close(): Promise<void> {
    const clients = [...this.#clients.values()]
    this.#clients.clear()
    await Promise.allSettled(clients.map((client) => client.close()))
  }
}
