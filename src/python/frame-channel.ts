import type { Duplex } from 'node:stream'
import { ErrorCodes, messageOf, SluiceError } from '../core/errors.ts'
import { decodePayload, encodeFrame, FrameReader } from './frame-codec.ts'

export interface FrameChannelHandlers {
  /** Each decoded message, in arrival order. */
  readonly message: (message: unknown) => void
  /** Once, when the peer closes the channel or it breaks; `error` unless it closed cleanly. */
  readonly close: (error: SluiceError | undefined) => void
}

/**
 * Frames over a socket (the driver's socket pair, a worker's extra stdio pipe): decodes
 * what arrives into messages and writes messages as frames. A malformed frame closes the
 * channel: after it nothing on the stream can be trusted to start a frame.
 */
export class FrameChannel {
  readonly peer: string
  readonly #socket: Duplex
  readonly #handlers: FrameChannelHandlers
  #closed = false

  constructor(socket: Duplex, peer: string, handlers: FrameChannelHandlers) {
    this.peer = peer
    this.#socket = socket
    this.#handlers = handlers
    const reader = new FrameReader(peer)
    socket.on('data', (data: Buffer) => {
      if (this.#closed) return
      let payloads: Buffer[]
      try {
        payloads = reader.push(data)
      } catch (error) {
        this.#close(error)
        return
      }
      for (const payload of payloads) {
        let message: unknown
        try {
          message = decodePayload(payload)
        } catch (error) {
          this.#close(error)
          return
        }
        this.#handlers.message(message)
        if (this.#closed) return
      }
    })
    socket.on('error', (error) => this.#close(error))
    socket.on('close', () => this.#close(undefined))
    socket.on('end', () => this.#close(undefined))
  }

  get closed(): boolean {
    return this.#closed
  }

  /** Writes one message; false once the channel is closed (the peer is gone: nothing to tell it). */
  send(message: unknown): boolean {
    if (this.#closed) return false
    this.#socket.write(encodeFrame(message))
    return true
  }

  /** Writes one message already encoded as a msgpack payload (see `encodePayload`). */
  sendPayload(payload: Buffer): boolean {
    if (this.#closed) return false
    const length = Buffer.allocUnsafe(4)
    length.writeUInt32BE(payload.length, 0)
    this.#socket.cork()
    this.#socket.write(length)
    this.#socket.write(payload)
    this.#socket.uncork()
    return true
  }

  /** Closes the channel from this side; the close handler runs without an error. */
  close(): void {
    this.#close(undefined)
  }

  #close(error: unknown): void {
    if (this.#closed) return
    this.#closed = true
    this.#socket.destroy()
    this.#handlers.close(
      error === undefined
        ? undefined
        : new SluiceError(
            ErrorCodes.PYTHON_CHANNEL,
            `the channel to ${this.peer} broke: ${messageOf(error)}`,
            {
              cause: error,
            },
          ),
    )
  }
}
