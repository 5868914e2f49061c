import { setTimeout as sleep } from 'node:timers/promises'
import type { KafkaClient } from '../../src/kafka/client.ts'
import { readRange } from '../../src/kafka/range-reader.ts'
import type { IsolationLevel } from '../../src/kafka/types.ts'

export interface ReadRecord {
  readonly partition: number
  readonly offset: bigint
  readonly key: string | null
  readonly value: string | null
}

const asString = (b: Buffer) => b.toString('utf8')

/**
 * Waits until no transaction is open on the topic's partitions (last stable offset ==
 * high watermark): a committed transaction's markers are written just after EndTxn
 * returns, and only then does read_committed see its records.
 */
export async function waitForStable(client: KafkaClient, topic: string, partitions: number): Promise<void> {
  const list = Array.from({ length: partitions }, (_, partition) => ({ topic, partition }))
  const deadline = Date.now() + 30_000
  for (;;) {
    const [stable, latest] = await Promise.all([
      client.listOffsets(list, 'lastStable'),
      client.listOffsets(list, 'latest'),
    ])
    if (stable.every((s, i) => s.offset === latest[i]!.offset)) return
    if (Date.now() > deadline) throw new Error(`transactions on ${topic} stayed open for 30 s`)
    await sleep(20)
  }
}

/** Every record of the topic, partition by partition, as a reader with `isolationLevel` sees it. */
export async function readTopic(
  client: KafkaClient,
  topic: string,
  partitions: number,
  isolationLevel: IsolationLevel = 'read_committed',
): Promise<ReadRecord[]> {
  if (isolationLevel === 'read_committed') await waitForStable(client, topic, partitions)
  const out: ReadRecord[] = []
  for (let partition = 0; partition < partitions; partition++) {
    const [end] = await client.listOffsets([{ topic, partition }], 'latest')
    for await (const chunk of readRange(client, {
      topic,
      partition,
      from: 0n,
      until: end!.offset,
      isolationLevel,
      maxBytesPerFetch: 1 << 20,
      key: asString,
      value: asString,
    })) {
      for (const r of chunk) out.push({ partition, offset: r.offset, key: r.key, value: r.value })
    }
  }
  return out
}
