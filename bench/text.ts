// Deterministic word lines for the word count benchmarks.
import type { KafkaClient } from '../src/kafka/client.ts'

const vocabulary = Array.from({ length: 1000 }, (_, i) => `word${i}`)

/** Lines of 6-12 words drawn from a 1,000-word vocabulary (about 60 bytes each). */
export function* wordLines(count: number, seed = 1): Generator<string> {
  let state = seed
  const next = () => {
    state = (state * 1_103_515_245 + 12_345) & 0x7fffffff
    return state
  }
  for (let i = 0; i < count; i++) {
    // The high bits: the low bits of this generator repeat with a short period.
    yield Array.from(
      { length: 6 + ((next() >>> 16) % 7) },
      () => vocabulary[(next() >>> 8) % vocabulary.length],
    ).join(' ')
  }
}

/** Fills `partitions` partitions with `perPartition` word lines each. */
export async function fillWithLines(
  client: KafkaClient,
  topic: string,
  partitions: number,
  perPartition: number,
): Promise<void> {
  const perSend = 5000
  await Promise.all(
    Array.from({ length: partitions }, async (_, partition) => {
      const lines = wordLines(perPartition, partition + 1)
      for (let sent = 0; sent < perPartition; sent += perSend) {
        const batch = []
        for (let i = 0; i < perSend && sent + i < perPartition; i++)
          batch.push({ topic, partition, value: lines.next().value! })
        await client.produce(batch)
      }
    }),
  )
}
