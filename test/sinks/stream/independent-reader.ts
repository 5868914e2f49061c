import { randomBytes } from 'node:crypto'
import {
  Consumer,
  FetchIsolationLevels,
  Producer,
  stringDeserializers,
  stringSerializers,
} from '@platformatic/kafka'
import { bootstrap } from '../../helpers/kafka.ts'
import { sorted } from './words.ts'

const endKey = '__sluice-test-end__'

/**
 * Reads a finished job's output with @platformatic/kafka's own Consumer — not sluice's
 * reader — so that the check does not share the code it checks. The end of the output is
 * marked by producing one (non-transactional) end record to every partition: whatever the
 * job committed lies before it, so the read stops exactly at the end, however the log's
 * transaction markers and aborted records are laid out.
 */
export async function readOutputIndependently(
  topic: string,
  partitions: number,
  isolation: 'read_committed' | 'read_uncommitted',
): Promise<{ counts: Map<string, number>; records: number }> {
  const token = randomBytes(5).toString('hex')
  const producer = new Producer({
    clientId: 'sluice-test-end-marker',
    bootstrapBrokers: bootstrap(),
    serializers: stringSerializers,
  })
  try {
    await producer.send({
      messages: Array.from({ length: partitions }, (_, partition) => ({
        topic,
        partition,
        key: endKey,
        value: token,
      })),
    })
  } finally {
    await producer.close()
  }
  const consumer = new Consumer({
    clientId: 'sluice-test-independent-reader',
    groupId: `sluice-test-reader-${token}`,
    bootstrapBrokers: bootstrap(),
    deserializers: stringDeserializers,
  })
  try {
    const stream = await consumer.consume({
      topics: [topic],
      mode: 'earliest',
      autocommit: false,
      isolationLevel:
        isolation === 'read_committed'
          ? FetchIsolationLevels.READ_COMMITTED
          : FetchIsolationLevels.READ_UNCOMMITTED,
    })
    const counts = new Map<string, number>()
    const ended = new Set<number>()
    let records = 0
    for await (const message of stream) {
      if (message.key === endKey) {
        // An earlier read's marker is skipped; this read's ends its partition.
        if (message.value === token) ended.add(message.partition)
        if (ended.size === partitions) break
        continue
      }
      records++
      counts.set(message.key, (counts.get(message.key) ?? 0) + Number(message.value))
    }
    await stream.close()
    return { counts: sorted(counts), records }
  } finally {
    await consumer.close(true)
  }
}
