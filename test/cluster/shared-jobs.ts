// What the scale-out tests read from the processes of a shared word count
// (test/fixtures/shared-wordcount-child.ts): their assignments, and a topic fed in waves.
import assert from 'node:assert/strict'
import type { TestContext } from 'node:test'
import type { ChildJob } from '../helpers/child-job.ts'
import { eventually } from '../helpers/eventually.ts'
import { createTestTopic, testClient } from '../helpers/kafka.ts'
import { endOffsets, produceLines, wordLines } from '../helpers/words.ts'

/** The partitions a process holds in a generation, from its last `assigned:` line. */
export interface Share {
  readonly generation: number
  readonly partitions: readonly number[]
}

/** The process's latest assignment, if it has one. */
export function latestShare(job: ChildJob): Share | undefined {
  const line = job.lines.findLast((l) => l.startsWith('assigned:'))
  if (line === undefined) return undefined
  const [, generation, list] = line.split(':')
  return {
    generation: Number(generation),
    partitions: list === '' ? [] : list!.split(',').map(Number),
  }
}

/**
 * Waits until `jobs` hold one generation together whose assignments cover the topic's
 * `partitions` partitions, each exactly once; returns each job's share.
 */
export async function settled(
  jobs: readonly ChildJob[],
  partitions: number,
  timeoutMs = 90_000,
): Promise<Share[]> {
  let shares: (Share | undefined)[] = []
  await eventually(
    () => {
      shares = jobs.map(latestShare)
      if (shares.some((s) => s === undefined)) return false
      const generations = new Set(shares.map((s) => s!.generation))
      const all = shares.flatMap((s) => s!.partitions)
      return generations.size === 1 && all.length === partitions && new Set(all).size === partitions
    },
    `${jobs.length} processes to share ${partitions} partitions in one generation ` +
      `(latest: ${JSON.stringify(jobs.map(latestShare))}; ${jobs.map((j) => j.describe()).join(' || ')})`,
    { timeoutMs, intervalMs: 100 },
  )
  return shares as Share[]
}

/** Asserts that the shares are balanced: sizes differ by at most one. */
export function assertBalanced(shares: readonly Share[]): void {
  const sizes = shares.map((s) => s.partitions.length)
  assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `unbalanced shares ${JSON.stringify(shares)}`)
}

/** A topic fed round-robin in waves of word lines; remembers every line produced. */
export async function wavesTopic(t: TestContext, partitions: number) {
  const client = testClient(t)
  const topic = await createTestTopic(t, client, { partitions })
  const lines: string[] = []
  return {
    client,
    topic,
    lines,
    /** Produces `count` more lines (seeded by `seed`), continuing the round-robin. */
    async produce(count: number, seed: number): Promise<void> {
      const wave = wordLines(count, seed)
      await produceLines(client, topic, partitions, wave, lines.length)
      lines.push(...wave)
    },
    /** Every partition's end offset after all waves so far. */
    ends: () => endOffsets(topic, partitions, lines.length),
  }
}
