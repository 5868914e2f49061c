import type { KafkaClient } from '../../src/kafka/client.ts'

const vocabulary = Array.from({ length: 40 }, (_, i) => `w${i.toString(36)}`)

/** Deterministic pseudo-random lines of 1 to 5 words, so that a failure can be reproduced. */
export function wordLines(count: number, seed = 42): string[] {
  let state = seed
  // A 31-bit LCG; its low bits cycle quickly, so only the high ones pick words.
  const next = (n: number) => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) & 0x7fffffff
    return (state >>> 12) % n
  }
  return Array.from({ length: count }, () =>
    Array.from({ length: 1 + next(5) }, () => vocabulary[next(vocabulary.length)]).join(' '),
  )
}

/** The exact word counts of `lines`, sorted by word. */
export function countWords(lines: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const line of lines) for (const word of line.split(' ')) counts.set(word, (counts.get(word) ?? 0) + 1)
  return sorted(counts)
}

export function sorted<V>(map: ReadonlyMap<string, V>): Map<string, V> {
  return new Map([...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

export function total(counts: ReadonlyMap<string, number>): number {
  let sum = 0
  for (const n of counts.values()) sum += n
  return sum
}

/** Produces `lines` round-robin over `partitions` partitions, in chunks. */
export async function produceLines(
  client: KafkaClient,
  topic: string,
  partitions: number,
  lines: readonly string[],
  offset = 0,
): Promise<void> {
  for (let i = 0; i < lines.length; i += 10_000) {
    await client.produce(
      lines
        .slice(i, i + 10_000)
        .map((value, j) => ({ topic, partition: (offset + i + j) % partitions, value })),
    )
  }
}

/** Each partition's end offset after `count` lines went round-robin over `partitions` partitions. */
export function endOffsets(
  topic: string,
  partitions: number,
  count: number,
): Record<string, Record<number, bigint>> {
  const ends: Record<number, bigint> = {}
  for (let p = 0; p < partitions; p++)
    ends[p] = BigInt(Math.floor(count / partitions) + (p < count % partitions ? 1 : 0))
  return { [topic]: ends }
}

/** True when `stored` holds exactly `ends` for every partition `ends` lists. */
export function reached(
  stored: Record<string, Record<number, bigint>>,
  ends: Record<string, Record<number, bigint>>,
): boolean {
  return Object.entries(ends).every(([topic, offsets]) =>
    Object.entries(offsets).every(([partition, end]) => stored[topic]?.[Number(partition)] === end),
  )
}

/** The lines `ranges` hold, when `lines` went round-robin over `partitions` partitions (offset o of partition p is line o·partitions + p). */
export function linesIn(
  lines: readonly string[],
  partitions: number,
  ranges: readonly { partition: number; fromOffset: bigint; untilOffset: bigint }[],
): string[] {
  return ranges.flatMap((r) => {
    const own: string[] = []
    for (let o = Number(r.fromOffset); o < Number(r.untilOffset); o++)
      own.push(lines[o * partitions + r.partition]!)
    return own
  })
}
