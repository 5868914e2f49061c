// A topic with two poison records (values the 'json' deserializer refuses) among good ones,
// and what a dead-letter topic must hold for them: shared by the direct and receiver streams'
// poison-record tests.
import type { TestContext } from 'node:test'
import { createTestTopic, testClient } from './kafka.ts'
import type { ConsumedRecord } from './topic-reader.ts'

/**
 * Two partitions, eight records each: values {"n":i} except two poison values, on partition 0
 * at offset 3 (with headers) and on partition 1 at offset 6.
 */
export async function poisonedTopic(t: TestContext) {
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions: 2, prefix: 'poison' })
  const records = [0, 1].flatMap((partition) =>
    Array.from({ length: 8 }, (_, i) => {
      const poison = (partition === 0 && i === 3) || (partition === 1 && i === 6)
      return {
        topic,
        partition,
        key: `k${partition}-${i}`,
        value: poison ? `not json ${partition}-${i}` : JSON.stringify({ n: partition * 100 + i }),
        ...(poison && partition === 0
          ? { headers: [['trace', 'abc'] as const, ['empty', null] as const] }
          : {}),
      }
    }),
  )
  for (const record of records) await client.produce([record])
  const good = records
    .map((r, i) => ({ ...r, offset: i % 8 }))
    .filter((r) => !r.value.startsWith('not json'))
    .map((r) => `record:${topic}-${r.partition}@${r.offset}=${r.value}`)
  return { client, topic, good }
}

/** What the dead-letter topic must hold for the poison record at `partition`/`offset`. */
export function deadLetter(
  topic: string,
  partition: number,
  offset: number,
  app: string,
  batchId: number,
  input = 'direct-kafka-0',
): { key: string; value: string; headers: Record<string, string | null> } {
  return {
    key: `k${partition}-${offset}`,
    value: `not json ${partition}-${offset}`,
    headers: {
      ...(partition === 0 ? { trace: 'abc', empty: null } : {}),
      'sluice.source.topic': topic,
      'sluice.source.partition': String(partition),
      'sluice.source.offset': String(offset),
      'sluice.error.part': 'value',
      'sluice.app': app,
      'sluice.input': input,
      'sluice.batch.id': String(batchId),
    },
  }
}

/** A consumed dead letter without the headers whose value varies (timestamp, error text), checked apart. */
export function comparable(record: ConsumedRecord) {
  const headers = Object.fromEntries(
    (record.headers ?? []).filter(
      ([name]) => name !== 'sluice.source.timestamp' && name !== 'sluice.error.message',
    ),
  )
  return { key: record.key, value: record.value, headers }
}
