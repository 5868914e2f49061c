// Where the suite's time goes: a node:test reporter records each top-level test's duration
// as it finishes (one JSON line, appended synchronously to the file SLUICE_TEST_TIMINGS
// names, so nothing is lost when --test-force-exit ends the run), and `npm test` prints the
// slowest files from that file once the run is over.
import { appendFileSync, readFileSync } from 'node:fs'
import { relative } from 'node:path'
import { Transform } from 'node:stream'

interface TestEvent {
  readonly type: string
  readonly data: {
    readonly nesting?: number
    readonly file?: string
    readonly details?: { duration_ms?: number }
  }
}

interface Timing {
  readonly file: string
  readonly ms: number
}

const recordTimings = new Transform({
  writableObjectMode: true,
  transform(event: TestEvent, _encoding, callback) {
    const path = process.env.SLUICE_TEST_TIMINGS
    const { nesting, file, details } = event.data
    if (path !== undefined && (event.type === 'test:pass' || event.type === 'test:fail')) {
      if (nesting === 0 && file !== undefined) {
        const timing: Timing = { file: relative(process.cwd(), file), ms: details?.duration_ms ?? 0 }
        appendFileSync(path, `${JSON.stringify(timing)}\n`)
      }
    }
    callback()
  },
})
export default recordTimings

/**
 * The `shown` slowest test files of a run, by the sum of their top-level tests' durations
 * (a file's import and process start are not counted), as lines to print.
 */
export function slowestFiles(path: string, shown = 10): string[] {
  const files = new Map<string, { ms: number; tests: number }>()
  let text = ''
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return []
  }
  for (const line of text.split('\n')) {
    if (line === '') continue
    const { file, ms } = JSON.parse(line) as Timing
    const entry = files.get(file) ?? { ms: 0, tests: 0 }
    entry.ms += ms
    entry.tests++
    files.set(file, entry)
  }
  const total = [...files.values()].reduce((sum, f) => sum + f.ms, 0)
  return [
    `slowest test files (sum of their tests' durations; ${(total / 1000).toFixed(1)} s over ${files.size} files):`,
    ...[...files]
      .sort(([, a], [, b]) => b.ms - a.ms)
      .slice(0, shown)
      .map(
        ([file, { ms, tests }]) =>
          `${(ms / 1000).toFixed(1).padStart(8)} s ${String(tests).padStart(4)} tests  ${file}`,
      ),
  ]
}
