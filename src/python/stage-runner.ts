import { ErrorCodes, SluiceError } from '../core/errors.ts'
import type { KafkaRecord } from '../kafka/records.ts'
import type { Chunks } from '../rdd/chunks.ts'
import type { TaskContext } from '../rdd/task-context.ts'
import { encodeKafkaChunkMessage } from './kafka-chunk.ts'
import type { PythonErrorInfo, PythonWorker } from './python-worker.ts'
import { digestsOf, type FunctionDigest, type PyBlob, type StageSpec } from './stage.ts'
import type { WorkerPool } from './worker-pool.ts'

let nextTaskId = 1

/**
 * Chunks sent to a worker before its answer to the first of them is awaited: the worker
 * starts on the next chunk as soon as it is done with one, while the engine reads and
 * encodes the chunk after it.
 */
const CHUNKS_IN_FLIGHT = 2

/**
 * Runs stages on the worker pool: one task holds one worker for one partition, feeds it the
 * partition's chunks (each answered with what it produced: records as blobs, or a state
 * update's results), then ends it. A Python exception fails the task with the Python
 * traceback; the task runner around it adds the RDD, partition, offsets and batch, and
 * retries it.
 */
export class StageRunner {
  readonly pool: WorkerPool
  readonly #functions: Map<FunctionDigest, Buffer>

  constructor(pool: WorkerPool, functions: Map<FunctionDigest, Buffer>) {
    this.pool = pool
    this.#functions = functions
  }

  /** The stage's records as they are produced, for stages whose output is `pickled`. */
  async *stream(spec: StageSpec, chunks: Chunks<unknown>, ctx: TaskContext): Chunks<PyBlob> {
    const session = this.#session(spec, chunks, ctx)
    try {
      for (;;) {
        const step = await session.next()
        if (step.done) {
          const rest = step.value as unknown[]
          if (rest.length > 0) yield toBlobs(rest)
          return
        }
        yield toBlobs(step.value)
      }
    } finally {
      // A consumer's early return() reaches the session, which frees its worker.
      await session.return(undefined)
    }
  }

  /**
   * Runs the stage over a partition; `onOutput` receives each chunk's answer (in order), the
   * promise the stage's end result.
   */
  async run(
    spec: StageSpec,
    chunks: Chunks<unknown>,
    ctx: TaskContext,
    onOutput: (answer: unknown[]) => void = () => {},
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
  ): AsyncGenerator<unknown[], unknown> {
    const worker = await this.pool.acquire(ctx, ctx.signal)
    // Python cannot be interrupted mid-function: an aborted task ends its worker instead.
    const abort = () => worker.kill()
    ctx.signal.addEventListener('abort', abort, { once: true })
    try {
      const taskId = nextTaskId++
      try {
        const task = { ...spec, partition: ctx.partition }
        expect(await worker.call(['task', taskId, task, this.#newFunctions(worker, spec)]), 'started')
      } catch (error) {
        // It may hold only some of the functions it was sent: a fresh worker is simpler than bookkeeping.
        worker.kill()
        throw error
      }
      const inFlight: Promise<readonly unknown[]>[] = []
      const answered = async () => {
        const answer = expect(await inFlight.shift()!, 'out') as unknown[]
        return answer.length > 0 ? answer : undefined
      }
      const input = spec.input.kind === 'kafka' ? coalesced(chunks, KAFKA_FRAME_RECORDS) : chunks
      for await (const chunk of input) {
        if (chunk.length === 0) continue
        const reply =
          spec.input.kind === 'kafka'
            ? worker.callEncoded(
                encodeKafkaChunkMessage(taskId, chunk as readonly KafkaRecord<Buffer, Buffer>[]),
              )
            : worker.call(['chunk', taskId, encodeChunk(spec, chunk)])
        // Awaited in order below; a failure of an earlier chunk is the one reported.
        reply.catch(() => {})
        inFlight.push(reply)
        if (inFlight.length < CHUNKS_IN_FLIGHT) continue
        const answer = await answered()
        if (answer) yield answer
      }
      while (inFlight.length > 0) {
        const answer = await answered()
        if (answer) yield answer
      }
      return expect(await worker.call(['end', taskId]), 'done')
    } finally {
      ctx.signal.removeEventListener('abort', abort)
      // Stopped early or failed with chunks still in flight: their replies must not reach
      // the worker's next task. Waiting for at most CHUNKS_IN_FLIGHT chunks is cheaper
      // than a new process.
      if (worker.pending > 0) await worker.drain()
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

/**
 * Kafka records per frame to a worker, at least: the reader decodes slices of 1,024, and a
 * frame costs a write, a wake-up of the worker and an answer whatever its size.
 */
const KAFKA_FRAME_RECORDS = 4096

/** The chunks joined into chunks of at least `size` elements (the last may be shorter). */
async function* coalesced(chunks: Chunks<unknown>, size: number): Chunks<unknown> {
  let pending: unknown[] = []
  for await (const chunk of chunks) {
    if (pending.length === 0 && chunk.length >= size) {
      yield chunk
      continue
    }
    for (let i = 0; i < chunk.length; i++) pending.push(chunk[i])
    if (pending.length >= size) {
      yield pending
      pending = []
    }
  }
  if (pending.length > 0) yield pending
}

function encodeChunk(spec: StageSpec, chunk: readonly unknown[]): unknown {
  if (spec.input.kind === 'state') return chunk
  if (spec.input.kind === 'states')
    return (chunk as readonly (readonly [string, Buffer])[]).map(([, state]) => state)
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
