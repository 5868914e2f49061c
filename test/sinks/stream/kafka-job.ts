import { randomBytes } from 'node:crypto'
import type { TestContext } from 'node:test'
import type { KafkaClient } from '../../../src/kafka/client.ts'
import type { IsolationLevel } from '../../../src/kafka/types.ts'
import { bootstrap, createTestTopic } from '../../helpers/kafka.ts'
import { consumeTopic } from '../../helpers/topic-reader.ts'
import { sorted } from '../../helpers/words.ts'

export const outputPartitions = 2

/** A random app with an output topic for examples/wordcount-kafka.ts. */
export interface KafkaJobWorld {
  readonly app: string
  readonly outputTopic: string
  env(topic: string, extra?: Record<string, string>): Record<string, string>
  /** Sums the output's counts per word as a reader with `isolationLevel` sees them. */
  counts(isolationLevel?: IsolationLevel): Promise<Map<string, number>>
  /** How many output records a reader with `isolationLevel` sees. */
  records(isolationLevel?: IsolationLevel): Promise<number>
  /** The offsets committed (stable) to the app's group `sluice-<app>`. */
  stored(): Promise<Record<string, Record<number, bigint>>>
}

export async function kafkaJobWorld(t: TestContext, client: KafkaClient): Promise<KafkaJobWorld> {
  const app = `wc-${randomBytes(5).toString('hex')}`
  const outputTopic = await createTestTopic(t, client, { partitions: outputPartitions, prefix: 'counts' })
  const read = (isolationLevel: IsolationLevel = 'read_committed') =>
    consumeTopic(outputTopic, isolationLevel)
  return {
    app,
    outputTopic,
    env: (topic, extra = {}) => ({
      SINK: 'kafka',
      KAFKA_BOOTSTRAP: bootstrap().join(','),
      TOPIC: topic,
      APP: app,
      OUT_TOPIC: outputTopic,
      ...extra,
    }),
    counts: async (isolationLevel) => {
      const counts = new Map<string, number>()
      for (const record of await read(isolationLevel)) {
        counts.set(record.key!, (counts.get(record.key!) ?? 0) + Number(record.value))
      }
      return sorted(counts)
    },
    records: async (isolationLevel) => (await read(isolationLevel)).length,
    stored: async () => {
      const result: Record<string, Record<number, bigint>> = {}
      for (const o of await client.groupOffsets(`sluice-${app}`, undefined, { requireStable: true })) {
        result[o.topic] ??= {}
        result[o.topic]![o.partition] = o.offset
      }
      return result
    },
  }
}
