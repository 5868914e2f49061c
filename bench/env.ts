// Shared plumbing for benchmark cases: each case runs in its own process so that its peak
// RSS is its own, and prints one JSON line with what it measured.
import type { KafkaClient } from '../src/kafka/client.ts'

export interface CaseResult {
  readonly name: string
  readonly records: number
  readonly ms: number
  readonly maxRssMb: number
  /** Only when the case ran with --expose-gc. */
  readonly maxLiveHeapMb?: number
  readonly extra?: Record<string, unknown>
}

/**
 * Run with --expose-gc, a case samples the live heap: heap used right after a full GC, every
 * 100 ms. Peak RSS says what the OS saw; the live heap says what the program actually kept,
 * without V8's choice of when to collect.
 */
let maxLiveHeap = 0
const gc = (globalThis as { gc?: () => void }).gc
if (gc) {
  setInterval(() => {
    gc()
    maxLiveHeap = Math.max(maxLiveHeap, process.memoryUsage().heapUsed)
  }, 100).unref()
}

export function report(result: Omit<CaseResult, 'maxRssMb'>): void {
  // maxRSS is in KiB on Linux.
  const maxRssMb = Math.round(process.resourceUsage().maxRSS / 1024)
  const live = gc ? { maxLiveHeapMb: Math.round(maxLiveHeap / 2 ** 20) } : {}
  process.stdout.write(`${JSON.stringify({ ...result, ...live, maxRssMb })}\n`)
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

/**
 * Steady-state timing, from the first record a case sees to the end of its work: process
 * startup (module loading, TypeScript stripping, connecting, the first plan) stays out, and
 * is reported on its own as `startupMs`, the time from process start to the first record.
 */
export class SteadyClock {
  firstRecordAt = 0
  #cpuAtFirstRecord: NodeJS.CpuUsage | undefined

  /** Call on every record (cheap): only the first call is remembered. */
  sawRecord(): void {
    if (this.firstRecordAt === 0) {
      this.firstRecordAt = performance.now()
      this.#cpuAtFirstRecord = process.cpuUsage()
    }
  }

  /**
   * Milliseconds from the first record to now; the CPU time the process used in that span
   * (every thread: a figure that other load on a shared machine disturbs much less than
   * wall time); and the startup before the first record.
   */
  stop(endedAt = performance.now()): { ms: number; cpuMs: number; startupMs: number } {
    const cpu = process.cpuUsage(this.#cpuAtFirstRecord)
    return {
      ms: endedAt - this.firstRecordAt,
      cpuMs: Math.round((cpu.user + cpu.system) / 1000),
      startupMs: Math.round(this.firstRecordAt),
    }
  }
}
