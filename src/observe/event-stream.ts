import type { ServerResponse } from 'node:http'
import type { HistoryChange } from './history.ts'

/** Open pages at once; one more is refused rather than letting a leaky client grow memory. */
const maxClients = 64
/** A comment line this often keeps proxies from closing an idle stream. */
const heartbeatMs = 15_000

/**
 * Server-sent events for live pages: one `change` event per history change, carrying only
 * what changed (`{ seq, kind, batchId }`); pages then fetch the documents they show from the
 * API, so there is one source of truth and a missed event costs nothing.
 */
export class EventStream {
  readonly #clients = new Set<ServerResponse>()
  readonly #heartbeat: NodeJS.Timeout

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
    this.#write(`event: change\nid: ${change.seq}\ndata: ${JSON.stringify(change)}\n\n`)
  }

  close(): void {
    clearInterval(this.#heartbeat)
    for (const client of this.#clients) client.end()
    this.#clients.clear()
  }

  #write(chunk: string): void {
    for (const client of this.#clients) client.write(chunk)
  }
}
