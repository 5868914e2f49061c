import type { JobProgress } from '../rdd/job-progress.ts'

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })

/**
 * One line of a batch job's progress, e.g.
 * `counting  [██████████░░░░░░░░░░]  5/10 tasks · 1,234,567 records · 410,000 rec/s · 3.0 s`,
 * fitted into `columns`: the bar shrinks, then the rate goes, then the bar.
 */
export function progressLine(label: string, progress: JobProgress, columns: number): string {
  const seconds = progress.elapsedMs / 1000
  const rate = seconds > 0 ? progress.recordsRead / seconds : 0
  const tasks = `${progress.tasksDone}/${progress.tasksTotal} tasks`
  const records = `${integer.format(progress.recordsRead)} records`
  const time = `${seconds.toFixed(1)} s`
  const fraction =
    progress.tasksTotal === 0 ? (progress.done ? 1 : 0) : progress.tasksDone / progress.tasksTotal
  const withRate = [tasks, records, ...(rate > 0 ? [`${integer.format(rate)} rec/s`] : []), time].join(' · ')
  const withoutRate = [tasks, records, time].join(' · ')
  for (const facts of [withRate, withoutRate]) {
    // label, two spaces, [bar], two spaces, facts, and a column left for the cursor.
    const width = Math.min(30, columns - label.length - facts.length - 7)
    if (width >= minBar) {
      const filled = Math.round(fraction * width)
      return `${label}  [${'█'.repeat(filled)}${'░'.repeat(width - filled)}]  ${facts}`
    }
  }
  return `${label}  ${withoutRate}`.slice(0, Math.max(0, columns - 1))
}

/** A narrower bar says too little to be worth its room. */
const minBar = 10

/** Redraws at most this often; the final report always draws. */
const redrawMs = 80

/**
 * A progress bar for a batch job (an RDD action's `onProgress`), drawn in place on a
 * terminal. When the stream is not a terminal (a pipe, a log file, CI) it draws nothing, so
 * output meant for files stays clean; `done()` then prints nothing either.
 */
export class TerminalProgressBar {
  readonly enabled: boolean
  readonly #label: string
  readonly #stream: NodeJS.WriteStream
  #last: JobProgress | undefined
  /** Never yet: the first update draws even in a process younger than the redraw interval. */
  #drawnAt = Number.NEGATIVE_INFINITY
  #drawn = false

  constructor(label: string, stream: NodeJS.WriteStream = process.stderr) {
    this.#label = label
    this.#stream = stream
    this.enabled = stream.isTTY === true
  }

  /** Pass this as the action's `onProgress`. */
  readonly update = (progress: JobProgress): void => {
    this.#last = progress
    if (!this.enabled) return
    const now = performance.now()
    if (!progress.done && now - this.#drawnAt < redrawMs) return
    this.#drawnAt = now
    this.#draw(progress)
  }

  /** Ends the bar's line (after the action settled, successfully or not). */
  done(): void {
    if (!this.enabled || !this.#drawn) return
    if (this.#last) this.#draw(this.#last)
    this.#stream.write('\n')
    this.#drawn = false
  }

  #draw(progress: JobProgress): void {
    const columns = this.#stream.columns || 80
    this.#stream.write(`\r${progressLine(this.#label, progress, columns)}\x1b[K`)
    this.#drawn = true
  }
}

/**
 * A progress bar for a batch job, drawn on `stream` (stderr by default) when it is a
 * terminal: pass `bar.update` as an action's `onProgress`, call `bar.done()` once it settled.
 */
export function createProgressBar(
  label: string,
  stream: NodeJS.WriteStream = process.stderr,
): TerminalProgressBar {
  return new TerminalProgressBar(label, stream)
}
