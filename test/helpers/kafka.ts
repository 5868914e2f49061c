import { randomBytes } from 'node:crypto'
import type { TestContext } from 'node:test'
import { silentLogger } from '../../src/core/logger.ts'
import { KafkaClient } from '../../src/kafka/client.ts'
import type { NewTopic, ProduceRecord } from '../../src/kafka/types.ts'

/** The broker `npm test` started (or KAFKA_BOOTSTRAP's cluster). */
export function bootstrap(): string[] {
  const value = process.env.KAFKA_BOOTSTRAP
  if (!value)
    throw new Error('KAFKA_BOOTSTRAP is not set: run the tests with `npm test`, which starts a broker')
  return value.split(',')
}

/** A client closed when the test ends. */
export function testClient(t: TestContext, options: { retryTimeoutMs?: number } = {}): KafkaClient {
  const client = new KafkaClient({
    brokers: bootstrap(),
    clientId: 'sluice-test',
    logger: silentLogger,
    ...options,
  })
  t.after(() => client.close())
  return client
}

/**
 * A base for record timestamps a test sets itself: an hour ago. Records stamped older than the
 * topic's retention (7 days by default) are deleted by the broker's next retention check
 * (every 5 s on the test brokers), so a fixed date in the past makes reads fail with "offset 0
 * is out of range" whenever that check runs between produce and read.
 */
export function recentTimestamp(): number {
  return Date.now() - 3_600_000
}

export function randomTopicName(prefix = 'test'): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`
}

/** Creates a topic with a random name, deleted when the test ends. */
export async function createTestTopic(
  t: TestContext,
  client: KafkaClient,
  options: Omit<NewTopic, 'name'> & { prefix?: string } = {},
): Promise<string> {
  const name = randomTopicName(options.prefix)
  await client.createTopics([{ ...options, name }])
  t.after(() => client.deleteTopics([name]).catch(() => {}))
  return name
}

/** Produces `count` records round-robin over `partitions`, value `v<i>` and key `k<i>`. */
export function numberedRecords(topic: string, count: number, partitions: number): ProduceRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    topic,
    partition: i % partitions,
    key: `k${i}`,
    value: `v${i}`,
  }))
}
