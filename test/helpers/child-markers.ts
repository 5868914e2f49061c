// The child side of the crash tests (test/helpers/child-job.ts is the parent side). A fixture
// prints one marker line at each moment of a batch that matters to exactly-once output:
//   started / stopped                 the stream started; it stopped gracefully (exit 0)
//   ranges:<id>:<t-p:from-until,...>  the batch's ranges are planned (in the offset log, with a checkpoint)
//   planned:<id>                      the same moment, as a place to pause
//   <moment>:<id>                     a moment of the output the fixture names (in-transaction, ...)
//   outcome:<id>:<replay|first>:<outcome>   the batch's output ran (once per call)
//   committed:<id>                    the batch is committed in the checkpoint (or done, without one)
//   start-error {...} / stream-error {...}   the start or the stream failed (exit 2 / 3)
// When PAUSE_AT names a marker ("<moment>:<id>") the job stops there: PAUSE_MODE=block (the
// default) blocks the thread with Atomics.wait until the test kills the process;
// PAUSE_MODE=resume waits for a "resume" line on stdin (the zombie tests let the job go on
// later). Markers printed from synchronous code (`planned`, from a listener) can only block.
import { createInterface } from 'node:readline'
import type { Batch, BatchRef, StreamingListener } from '../../src/stream/batch.ts'

const pauseAt = process.env.PAUSE_AT
const resumable = process.env.PAUSE_MODE === 'resume'
const stdinLines = resumable ? createInterface({ input: process.stdin })[Symbol.asyncIterator]() : undefined

/** Writes one line to stdout (synchronous when stdout is a pipe, on Linux). */
export function print(line: string): void {
  process.stdout.write(`${line}\n`)
}

let pausedOnce = false

/**
 * Prints `label`; pauses there when PAUSE_AT names it, the first time only: a sink that
 * retries a transaction runs the moment again, and must then go on.
 */
export async function markLabel(label: string): Promise<void> {
  print(label)
  if (label !== pauseAt || pausedOnce) return
  pausedOnce = true
  print(`paused ${label}`)
  if (stdinLines) {
    // The event loop keeps running (the batch's connections stay open), but this batch waits.
    for (;;) {
      const { value, done } = await stdinLines.next()
      if (done || value === 'resume') break
    }
    print(`resumed ${label}`)
    return
  }
  // Block the whole thread (the line is out already): nothing of the batch can move on until
  // the test kills the process.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 600_000)
}

/** Prints `<moment>:<batch id>`; pauses there when PAUSE_AT names it. */
export function mark(moment: string, batch: BatchRef): Promise<void> {
  return markLabel(`${moment}:${batch.id}`)
}

/** Prints the batch's `outcome:` line: its output ran, first time or as a replay. */
export function markOutcome(batch: Batch, outcome: string): void {
  print(`outcome:${batch.id}:${batch.replay ? 'replay' : 'first'}:${outcome}`)
}

/** Prints `ranges`, `planned` (a place to pause) and `committed` for every batch. */
export const markerListener: StreamingListener = {
  // Fired once the batch's ranges are planned (and in the offset log), before any output runs.
  onBatchStarted: (batch) => {
    const ranges = batch.offsetRanges.map((r) => `${r.topic}-${r.partition}:${r.fromOffset}-${r.untilOffset}`)
    print(`ranges:${batch.id}:${ranges.join(',')}`)
    void mark('planned', batch)
  },
  onBatchCompleted: (info) => print(`committed:${info.id}`),
}

function describe(error: unknown) {
  const e = error as { code?: string; message?: string; cause?: { code?: string; message?: string } }
  return { code: e?.code, message: e?.message, cause: { code: e?.cause?.code, message: e?.cause?.message } }
}

/**
 * Starts the job and reports its life on stdout: `start-error` (exit 2), `stored` (where an
 * offset-storing sink said the stream starts), `started`, then `stopped` (exit 0) or
 * `stream-error` (exit 3). The jobs set stopOnSignals, so a SIGTERM stops them gracefully.
 */
export async function runJob(
  start: () => Promise<{ readonly done: Promise<void>; readonly startingOffsets?: unknown }>,
): Promise<never> {
  let job: Awaited<ReturnType<typeof start>>
  try {
    job = await start()
  } catch (error) {
    print(`start-error ${JSON.stringify(describe(error))}`)
    process.exit(2)
  }
  if (job.startingOffsets !== undefined) {
    // Where the sink said the stream starts (a checkpoint, when given, takes precedence).
    print(
      `stored ${JSON.stringify(job.startingOffsets, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`,
    )
  }
  print('started')
  try {
    await job.done
    print('stopped')
  } catch (error) {
    print(`stream-error ${JSON.stringify(describe(error))}`)
    process.exit(3)
  }
  process.exit(0)
}
