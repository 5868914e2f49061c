import { type ChildProcess, spawn } from 'node:child_process'
import type { Duplex } from 'node:stream'
import { ErrorCodes, SluiceError } from '../core/errors.ts'
import type { Logger } from '../core/logger.ts'
import { FrameChannel } from './frame-channel.ts'

/** How the engine starts Python workers: the driver's interpreter, paths and directory. */
export interface WorkerSettings {
  /** The driver's `sys.executable`. */
  readonly python: string
  /** The driver's `sys.path`, so workers import what the driver imports (cloudpickle pickles module functions by name). */
  readonly sysPath: readonly string[]
  /** The driver's working directory. */
  readonly cwd: string
  readonly logger: Logger
}

/** What a worker says about a user exception: the traceback is the Python one. */
export interface PythonErrorInfo {
  readonly type: string
  readonly message: string
  readonly traceback: string
  readonly deserialization?: boolean
}

type Reply = readonly unknown[]

/**
 * One Python worker process (`python -m sluice._worker 3`), talking frames over its fd 3.
 * Its stdout and stderr are the engine's, so a user's print() shows where the driver's
 * output goes. Every message gets one reply, in order; the engine may send the next message
 * before the reply comes (a task's next chunk, so that the worker never waits for it).
 */
export class PythonWorker {
  readonly pid: number
  /** Function digests this process has loaded: each is sent to a worker once. */
  readonly loadedFunctions = new Set<string>()
  readonly #child: ChildProcess
  readonly #channel: FrameChannel
  readonly #waiting: { resolve: (reply: Reply) => void; reject: (error: SluiceError) => void }[] = []
  #lost: SluiceError | undefined

  private constructor(child: ChildProcess, logger: Logger) {
    this.#child = child
    this.pid = child.pid ?? -1
    this.#channel = new FrameChannel(child.stdio[3] as Duplex, `Python worker ${this.pid}`, {
      message: (message) => {
        const waiting = this.#waiting.shift()
        if (!waiting || !Array.isArray(message)) {
          this.#fail(`Python worker ${this.pid} sent a message nobody asked for`)
          return
        }
        waiting.resolve(message)
      },
      close: (error) => {
        if (error) logger.warn('lost the channel to a Python worker', { pid: this.pid, error })
        this.#fail(`Python worker ${this.pid} closed its channel`)
      },
    })
    child.once('exit', (code, signal) => {
      this.#fail(
        `Python worker ${this.pid} exited (${signal ? `signal ${signal}` : `code ${code}`}) while it ran a task`,
      )
    })
  }

  static async start(settings: WorkerSettings): Promise<PythonWorker> {
    const child = spawn(settings.python, ['-m', 'sluice._worker', '3'], {
      cwd: settings.cwd,
      stdio: ['ignore', 'inherit', 'inherit', 'pipe'],
      env: {
        ...process.env,
        PYTHONPATH: settings.sysPath.filter((path) => path !== '').join(':'),
        PYTHONUNBUFFERED: '1',
      },
    })
    const started = new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve)
      child.once('error', (error) =>
        reject(
          new SluiceError(
            ErrorCodes.PYTHON_WORKER_LOST,
            `cannot start a Python worker with '${settings.python}': ${error.message}`,
            { cause: error },
          ),
        ),
      )
    })
    await started
    const worker = new PythonWorker(child, settings.logger)
    await worker.call(['hello', {}])
    return worker
  }

  get alive(): boolean {
    return this.#lost === undefined
  }

  /** Replies still to come. */
  get pending(): number {
    return this.#waiting.length
  }

  /** Sends a message and resolves with the worker's reply to it; rejects if the worker dies first. */
  call(message: readonly unknown[]): Promise<Reply> {
    return this.#call(() => this.#channel.send(message))
  }

  /** The same for a message already encoded (`encodePayload`). */
  callEncoded(payload: Buffer): Promise<Reply> {
    return this.#call(() => this.#channel.sendPayload(payload))
  }

  #call(send: () => void): Promise<Reply> {
    if (this.#lost) return Promise.reject(this.#lost)
    return new Promise<Reply>((resolve, reject) => {
      this.#waiting.push({ resolve, reject })
      send()
    })
  }

  /** Resolves once every reply still to come has come (or the worker is lost). */
  drain(): Promise<void> {
    // A hello is answered after everything sent before it, and leaves the task alone.
    return this.call(['hello', {}]).then(
      () => {},
      () => {},
    )
  }

  /** Ends the process; a reply still awaited rejects as a lost worker. */
  kill(): void {
    this.#fail(`Python worker ${this.pid} was stopped`)
  }

  #fail(reason: string): void {
    if (this.#lost === undefined) {
      this.#lost = new SluiceError(ErrorCodes.PYTHON_WORKER_LOST, reason, {
        retriable: true,
        details: { pid: this.pid },
      })
      this.#channel.close()
      if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL')
    }
    for (const waiting of this.#waiting.splice(0)) waiting.reject(this.#lost)
  }
}
