import type { Duplex } from 'node:stream'
import { ErrorCodes, isSluiceError, messageOf, SluiceError } from '../core/errors.ts'
import type { Logger } from '../core/logger.ts'
import { FrameChannel } from './frame-channel.ts'

/** An error as the driver receives it: Python raises it as sluice.SluiceError with the same code. */
export interface ErrorFrame {
  readonly code: string
  readonly message: string
  readonly details?: Record<string, unknown>
}

export type RequestHandler = (method: string, params: Record<string, unknown>) => Promise<unknown>

/**
 * Requests both ways between the engine and the Python driver, over one frame channel:
 * `['req', id, method, params]` answered by `['res', id, error, result]`, and one-way
 * `['evt', name, params]`. The driver asks for jobs, actions and sink writes; the engine
 * asks the driver to run foreach_batch functions. Each side numbers its own requests.
 */
export class DriverChannel {
  readonly #channel: FrameChannel
  readonly #pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: unknown) => void }
  >()
  readonly #logger: Logger
  #nextId = 1
  #closedError: SluiceError | undefined

  constructor(
    socket: Duplex,
    handler: RequestHandler,
    onClose: (error: SluiceError | undefined) => void,
    logger: Logger,
  ) {
    this.#logger = logger
    this.#channel = new FrameChannel(socket, 'the Python driver', {
      message: (message) => this.#receive(message, handler),
      close: (error) => {
        this.#closedError =
          error ??
          new SluiceError(
            ErrorCodes.PYTHON_CHANNEL,
            'the Python driver closed its channel (it exited or died)',
          )
        for (const pending of this.#pending.values()) pending.reject(this.#closedError)
        this.#pending.clear()
        onClose(error)
      },
    })
  }

  /** Asks the driver something and resolves with its answer. */
  request(method: string, params: Record<string, unknown>): Promise<unknown> {
    if (this.#closedError) return Promise.reject(this.#closedError)
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject })
      this.#channel.send(['req', id, method, params])
    })
  }

  event(name: string, params: Record<string, unknown>): void {
    this.#channel.send(['evt', name, params])
  }

  close(): void {
    this.#channel.close()
  }

  #receive(message: unknown, handler: RequestHandler): void {
    if (!Array.isArray(message)) {
      this.#logger.warn('ignored a malformed message from the Python driver')
      return
    }
    const [kind, id] = message as [string, number]
    if (kind === 'req') {
      const [, , method, params] = message as [string, number, string, Record<string, unknown> | null]
      handler(method, params ?? {}).then(
        (result) => this.#channel.send(['res', id, null, result ?? null]),
        (error: unknown) => this.#channel.send(['res', id, toErrorFrame(error), null]),
      )
    } else if (kind === 'res') {
      const pending = this.#pending.get(id)
      if (!pending) return
      this.#pending.delete(id)
      const [, , error, result] = message as [string, number, ErrorFrame | null, unknown]
      if (error) pending.reject(fromErrorFrame(error))
      else pending.resolve(result)
    }
  }
}

export function toErrorFrame(error: unknown): ErrorFrame {
  if (isSluiceError(error)) {
    const traceback = error.details.traceback
    return {
      code: error.code,
      message: error.message,
      ...(typeof traceback === 'string' ? { details: { traceback } } : {}),
    }
  }
  return { code: 'SLUICE_INTERNAL', message: messageOf(error) }
}

/** An error the driver sent back (a foreach_batch function raised): its traceback is in the message. */
export function fromErrorFrame(frame: ErrorFrame): SluiceError {
  const known = Object.values(ErrorCodes) as string[]
  const code = (known.includes(frame.code) ? frame.code : ErrorCodes.PYTHON) as SluiceError['code']
  return new SluiceError(code, frame.message, { details: frame.details ?? {} })
}
