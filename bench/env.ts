// Shared plumbing for benchmark cases: each case runs in its own process so that its peak
// RSS is its own, and prints one JSON line with what it measured.
import type { KafkaClient } from '../src/kafka/client.ts'

export interface CaseResult {
  readonly name: string
  readonly records: number
  readonly ms: number
  readonly maxRssMb: number
  readonly extra?: Record<string, unknown>
}

export function report(result: Omit<CaseResult, 'maxRssMb'>): void {
  // maxRSS is in KiB on Linux.
  const maxRssMb = Math.round(process.resourceUsage().maxRSS / 1024)
  process.stdout.write(`${JSON.stringify({ ...result, maxRssMb })}\n`)
}

export function caseArgs(): { brokers: string[]; topic: string; partitions: number; perPartition: number } {
  const [brokers, topic, partitions, perPartition] = process.argv.slice(2)
  if (!brokers || !topic || !partitions || !perPartition) {
    throw new Error('usage: <brokers> <topic> <partitions> <records per partition>')
  }
  return {
    brokers: brokers.split(','),
    topic,
    partitions: Number(partitions),
    perPartition: Number(perPartition),
  }
}

/** Fills `partitions` partitions with `perPartition` records of `size` bytes, in parallel sends. */
export async function fillTopic(
  client: KafkaClient,
  topic: string,
  partitions: number,
  perPartition: number,
  size = 100,
): Promise<void> {
  const value = Buffer.alloc(size, 'x')
  const perSend = 5000
  await Promise.all(
    Array.from({ length: partitions }, async (_, partition) => {
      for (let sent = 0; sent < perPartition; sent += perSend) {
        const n = Math.min(perSend, perPartition - sent)
        await client.produce(Array.from({ length: n }, () => ({ topic, partition, value })))
      }
    }),
  )
}
