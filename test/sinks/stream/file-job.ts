import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { sorted } from '../../helpers/words.ts'

/** Batch id to its file's lines, for every `<id>.jsonl` in `dir`. */
export function batchFiles(dir: string): Map<number, { word: string; count: number }[]> {
  const files = new Map<number, { word: string; count: number }[]>()
  for (const name of readdirSync(dir)) {
    const match = /^(\d+)\.jsonl$/.exec(name)
    if (!match) continue
    const text = readFileSync(join(dir, name), 'utf8')
    files.set(
      Number(match[1]),
      text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line)),
    )
  }
  return files
}

/** The word counts of every batch file in `dir`, summed, sorted by word. */
export function sumFiles(dir: string): Map<string, number> {
  const counts = new Map<string, number>()
  for (const rows of batchFiles(dir).values()) {
    for (const { word, count } of rows) counts.set(word, (counts.get(word) ?? 0) + count)
  }
  return sorted(counts)
}
