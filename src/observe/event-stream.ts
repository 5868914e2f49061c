import type { ServerResponse } from 'node:http'
import type { HistoryChange } from './history.ts'

/** Open pages at once; one more is refused rather than letting a leaky client grow memory. */
const maxClients = 64
/** A comment line this often keeps proxies from closing an idle stream. */
const heartbeatMs = 15_000
/**
 * The least time between two events. A busy job changes its history five times a batch, and
 * a page refreshes at most every 400 ms whatever it hears, so sending every change would only
 * wake the job's thread and every open page for nothing.
 */
export const minEventGapMs = 250

/** What one event carries: the newest change it stands for, and how many changes it stands for. */
export interface ChangeEvent extends HistoryChange {
  readonly changes: number
}

/**
 * Server-sent events for live pages: a `change` event when the history changed, carrying only
 * the newest change (`{ seq, kind, batchId, changes }`); pages then fetch the documents they
 * show from the API, so there is one source of truth and a missed event costs nothing. The
 * first change after a quiet spell goes out at once; later ones within minEventGapMs of an
 * event are merged into one event sent when the gap has passed.
 */
export class EventStream {
  readonly #clients = new Set<ServerResponse>()
  readonly #heartbeat: NodeJS.Timeout
  #lastSentAt = Number.NEGATIVE_INFINITY
  /** The changes waiting for the gap to pass, and the timer that sends them. */
  #held: { change: HistoryChange; changes: number; readonly timer: NodeJS.Timeout } | undefined

  constructor() {
    this.#heartbeat = setInterval(() => this.#write(': heartbeat\n\n'), heartbeatMs)
    this.#heartbeat.unref()
  }

  get clients(): number {
    return this.#clients.size
  }

  /** Takes over `response` as an event stream; false when there are too many already. */
  add(response: ServerResponse): boolean {
    if (this.#clients.size >= maxClients) return false
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    })
    // Reconnect after 2 s when the connection drops (EventSource's default is 3 s).
    response.write('retry: 2000\n\n')
    this.#clients.add(response)
    response.on('close', () => this.#clients.delete(response))
    return true
  }

  publish(change: HistoryChange): void {
    if (this.#clients.size === 0) return
    if (this.#held) {
      this.#held.change = change
      this.#held.changes++
      return
    }
    const wait = this.#lastSentAt + minEventGapMs - performance.now()
    if (wait <= 0) {
      this.#send(change, 1)
      return
    }
    const timer = setTimeout(() => {
      const { change, changes } = this.#held!
      this.#held = undefined
      this.#send(change, changes)
    }, wait)
    timer.unref()
    this.#held = { change, changes: 1, timer }
  }

  close(): void {
    clearInterval(this.#heartbeat)
    clearTimeout(this.#held?.timer)
    this.#held = undefined
    for (const client of this.#clients) client.end()
    this.#clients.clear()
  }

  #send(change: HistoryChange, changes: number): void {
    this.#lastSentAt = performance.now()
    const event: ChangeEvent = { ...change, changes }
    this.#write(`event: change\nid: ${change.seq}\ndata: ${JSON.stringify(event)}\n\n`)
  }

  #write(chunk: string): void {
    for (const client of this.#clients) client.write(chunk)
  }
}
