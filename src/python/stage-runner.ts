import { ErrorCodes, SluiceError } from '../core/errors.ts'
import type { KafkaRecord } from '../kafka/records.ts'
import type { Chunks } from '../rdd/chunks.ts'
import type { TaskContext } from '../rdd/task-context.ts'
import { encodeKafkaChunk } from './kafka-chunk.ts'
import type { PythonErrorInfo, PythonWorker } from './python-worker.ts'
import { digestsOf, type FunctionDigest, type PyBlob, type StageSpec } from './stage.ts'
import type { WorkerPool } from './worker-pool.ts'

let nextTaskId = 1

/**
 * Runs stages on the worker pool: one task holds one worker for one partition, feeds it the
 * partition's chunks one at a time (each answered with the records made from it), then ends
 * it. A Python exception fails the task with the Python traceback; the task runner around
 * it adds the RDD, partition, offsets and batch, and retries it.
 */
export class StageRunner {
  readonly pool: WorkerPool
  readonly #functions: Map<FunctionDigest, Buffer>

  constructor(pool: WorkerPool, functions: Map<FunctionDigest, Buffer>) {
    this.pool = pool
    this.#functions = functions
  }

  /** The stage's outputs as they are produced, for stages whose output is `pickled`. */
  async *stream(spec: StageSpec, chunks: Chunks<unknown>, ctx: TaskContext): Chunks<PyBlob> {
    // yield* passes a consumer's early return() on, so the session frees its worker.
    yield* this.#session(spec, chunks, ctx)
  }

  /** Runs the stage over a partition; `onOutput` receives each chunk's output, the promise the stage's final result. */
  async run(
    spec: StageSpec,
    chunks: Chunks<unknown>,
    ctx: TaskContext,
    onOutput: (blobs: PyBlob[]) => void = () => {},
  ): Promise<unknown> {
    const session = this.#session(spec, chunks, ctx)
    for (;;) {
      const step = await session.next()
      if (step.done) return step.value
      onOutput(step.value)
    }
  }

  /**
   * One task on one worker: yields what each input chunk produced, returns the stage's end
   * result. Stopped early (a `take` that has enough), it frees the worker at once: the
   * worker drops an unfinished task when it is given the next.
   */
  async *#session(
    spec: StageSpec,
    chunks: Chunks<unknown>,
    ctx: TaskContext,
  ): AsyncGenerator<PyBlob[], unknown> {
    const worker = await this.pool.acquire(ctx, ctx.signal)
    // Python cannot be interrupted mid-function: an aborted task ends its worker instead.
    const abort = () => worker.kill()
    ctx.signal.addEventListener('abort', abort, { once: true })
    try {
      const taskId = nextTaskId++
      try {
        expect(await worker.call(['task', taskId, spec, this.#newFunctions(worker, spec)]), 'started')
      } catch (error) {
        // It may hold only some of the functions it was sent: a fresh worker is simpler than bookkeeping.
        worker.kill()
        throw error
      }
      for await (const chunk of chunks) {
        if (chunk.length === 0) continue
        const blobs = expect(
          await worker.call(['chunk', taskId, encodeChunk(spec, chunk)]),
          'out',
        ) as unknown[]
        if (blobs.length > 0) yield toBlobs(blobs)
      }
      const result = expect(await worker.call(['end', taskId]), 'done')
      if (spec.output.kind === 'pickled') {
        const blobs = result as unknown[]
        if (blobs.length > 0) yield toBlobs(blobs)
      }
      return result
    } finally {
      ctx.signal.removeEventListener('abort', abort)
      this.pool.release(ctx, worker)
    }
  }

  #newFunctions(worker: PythonWorker, spec: StageSpec): Record<string, Buffer> {
    const out: Record<string, Buffer> = {}
    for (const digest of digestsOf(spec)) {
      if (worker.loadedFunctions.has(digest)) continue
      const payload = this.#functions.get(digest)
      if (payload === undefined) {
        throw new SluiceError(ErrorCodes.INVALID_ARGUMENT, `the driver never sent Python function ${digest}`)
      }
      out[digest] = payload
      worker.loadedFunctions.add(digest)
    }
    return out
  }
}

function encodeChunk(spec: StageSpec, chunk: readonly unknown[]): unknown {
  if (spec.input.kind === 'kafka') return encodeKafkaChunk(chunk as readonly KafkaRecord<unknown, unknown>[])
  if (spec.input.kind === 'state') return chunk[0]
  if (spec.input.kind === 'states') {
    return (chunk as readonly (readonly [number, string])[]).map(([, state]) => Buffer.from(state, 'base64'))
  }
  return (chunk as readonly PyBlob[]).filter((blob) => blob.count > 0).map((blob) => blob.data)
}

function toBlobs(raw: readonly unknown[]): PyBlob[] {
  return raw.map((entry) => {
    const [count, data] = entry as [number, Buffer]
    return { count, data }
  })
}

function expect(reply: readonly unknown[], kind: string): unknown {
  if (reply[0] === kind) return reply[2]
  if (reply[0] === 'error') throw pythonError(reply[2] as PythonErrorInfo)
  throw new SluiceError(
    ErrorCodes.PYTHON_CHANNEL,
    `a Python worker answered '${String(reply[0])}' where '${kind}' was expected`,
  )
}

/** A user exception from Python: its traceback is the message's tail. */
export function pythonError(info: PythonErrorInfo): SluiceError {
  const code = info.deserialization ? ErrorCodes.DESERIALIZATION : ErrorCodes.PYTHON
  return new SluiceError(code, `${info.type}: ${info.message}\n${info.traceback.trimEnd()}`, {
    details: { pythonType: info.type, traceback: info.traceback },
  })
}
