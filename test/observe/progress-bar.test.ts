import assert from 'node:assert/strict'
import { PassThrough } from 'node:stream'
import { test } from 'node:test'
import { progressLine, TerminalProgressBar } from '../../src/observe/progress-bar.ts'
import type { JobProgress } from '../../src/rdd/job-progress.ts'

const halfway: JobProgress = {
  tasksTotal: 10,
  tasksDone: 5,
  recordsRead: 1_234_567,
  elapsedMs: 3000,
  done: false,
}

test('a progress line shows the bar, tasks, records, rate and time, and fits the terminal', () => {
  assert.equal(
    progressLine('counting', halfway, 120),
    'counting  [███████████████░░░░░░░░░░░░░░░]  5/10 tasks · 1,234,567 records · 411,522 rec/s · 3.0 s',
  )
  assert.equal(
    progressLine('counting', halfway, 90),
    'counting  [███████████░░░░░░░░░░]  5/10 tasks · 1,234,567 records · 411,522 rec/s · 3.0 s',
  )
  // Narrower: the rate goes before the bar does.
  assert.equal(
    progressLine('counting', halfway, 70),
    'counting  [█████████░░░░░░░░]  5/10 tasks · 1,234,567 records · 3.0 s',
  )
  // Too narrow for a bar: the facts alone, cut to the width.
  assert.equal(progressLine('counting', halfway, 40), 'counting  5/10 tasks · 1,234,567 record')
  const empty: JobProgress = { tasksTotal: 0, tasksDone: 0, recordsRead: 0, elapsedMs: 0, done: true }
  assert.equal(progressLine('x', empty, 60), 'x  [███████████████████████]  0/0 tasks · 0 records · 0.0 s')
})

function terminal(isTTY: boolean) {
  const stream = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number }
  stream.isTTY = isTTY
  stream.columns = 100
  let written = ''
  stream.on('data', (chunk: Buffer) => {
    written += chunk.toString()
  })
  return { stream: stream as unknown as NodeJS.WriteStream, written: () => written }
}

test('on a terminal the bar redraws in place and ends its line; elsewhere it writes nothing', async () => {
  const tty = terminal(true)
  const bar = new TerminalProgressBar('reading', tty.stream)
  assert.equal(bar.enabled, true)
  bar.update(halfway)
  bar.update({ ...halfway, tasksDone: 6 }) // within the redraw interval: skipped
  bar.update({ ...halfway, tasksDone: 10, recordsRead: 2_000_000, elapsedMs: 4000, done: true })
  bar.done()
  await new Promise((resolve) => setImmediate(resolve))
  const frames = tty.written().split('\r').filter(Boolean)
  assert.equal(frames.length, 3)
  assert.match(frames[0]!, /5\/10 tasks/)
  const clearToEnd = '\x1b[K'
  assert.ok(
    frames[1]!.endsWith(`10/10 tasks · 2,000,000 records · 500,000 rec/s · 4.0 s${clearToEnd}`),
    frames[1],
  )
  assert.ok(frames[2]!.endsWith(`${clearToEnd}\n`), frames[2])

  const pipe = terminal(false)
  const quiet = new TerminalProgressBar('reading', pipe.stream)
  assert.equal(quiet.enabled, false)
  quiet.update(halfway)
  quiet.done()
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(pipe.written(), '')
})
