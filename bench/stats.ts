import type { CaseResult } from './env.ts'

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

export interface Summary {
  readonly name: string
  readonly records: number
  readonly medianMs: number
  readonly recordsPerSecond: number
  readonly peakRssMb: number
  readonly runs: number
}

/** Median time and worst peak RSS over repeated runs of one case. */
export function summarize(results: readonly CaseResult[]): Summary {
  const medianMs = median(results.map((r) => r.ms))
  const records = results[0]!.records
  return {
    name: results[0]!.name,
    records,
    medianMs,
    recordsPerSecond: Math.round((records / medianMs) * 1000),
    peakRssMb: Math.max(...results.map((r) => r.maxRssMb)),
    runs: results.length,
  }
}

export function table(rows: readonly Summary[]): string[] {
  return [
    '| case | records | median ms | records/s | peak RSS MB |',
    '|---|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.records.toLocaleString('en')} | ${Math.round(r.medianMs)} | ${r.recordsPerSecond.toLocaleString('en')} | ${r.peakRssMb} |`,
    ),
  ]
}

export function ratio(a: number, b: number): string {
  return (a / b).toFixed(2)
}
