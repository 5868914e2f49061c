import { randomBytes } from 'node:crypto'
import { Producer } from '@platformatic/kafka'
import { bootstrap } from './kafka.ts'

/**
 * Produces one transaction's worth of string values to one partition and commits or aborts
 * it. Tests use the wire client directly here: they need transactional data to exist, which
 * is independent of how sluice's own sinks write it.
 */
export async function produceTransaction(
  topic: string,
  partition: number,
  values: readonly string[],
  outcome: 'commit' | 'abort',
): Promise<void> {
  const producer = new Producer({
    clientId: 'sluice-test-txn',
    bootstrapBrokers: bootstrap(),
    transactionalId: `sluice-test-${randomBytes(6).toString('hex')}`,
    idempotent: true,
    acks: -1,
    autocreateTopics: false,
  })
  try {
    const transaction = await producer.beginTransaction()
    await transaction.send({
      messages: values.map((value) => ({ topic, partition, value: Buffer.from(value) })),
    })
    if (outcome === 'commit') await transaction.commit()
    else await transaction.abort()
  } finally {
    await producer.close()
  }
}
