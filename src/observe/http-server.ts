import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Registry } from 'prom-client'
import { ErrorCodes, messageOf, SluiceError } from '../core/errors.ts'
import type { Logger } from '../core/logger.ts'
import {
  appDocument,
  type BatchStatusFilter,
  batchDocument,
  batchPage,
  partitionsDocument,
  statisticsDocument,
} from './api.ts'
import { EventStream } from './event-stream.ts'
import type { JobHistory } from './history.ts'
import { type Readiness, readiness } from './readiness.ts'
import { type Asset, loadAssets } from './static-assets.ts'

export interface ObservabilityServerOptions {
  readonly host: string
  readonly port: number
  readonly history: JobHistory
  readonly registry: Registry
  readonly readinessIntervals: number
  readonly logger: Logger
}

export interface ObservabilityServer {
  /** Where the UI is, e.g. http://127.0.0.1:4040/ */
  readonly url: string
  readonly port: number
  close(): Promise<void>
}

/** The UI's pages; each is the same HTML shell, whose script renders the page of its path. */
const pagePaths = /^\/(?:batches(?:\/\d+)?|partitions)?\/?$/

const securityHeaders = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  // Scripts and styles come from this server only; uPlot sizes its elements through inline styles.
  'content-security-policy':
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
}

/**
 * The job's HTTP server: the web UI, its JSON API under /api, live updates at
 * /api/events, Prometheus metrics at /metrics, and /healthz and /readyz. Read-only: nothing
 * it serves changes the job.
 */
export async function startObservabilityServer(
  options: ObservabilityServerOptions,
): Promise<ObservabilityServer> {
  const assets = await loadAssets()
  const events = new EventStream()
  const { history } = options
  const stopWatching = history.watch((change) => events.publish(change))
  const ready = (): Readiness =>
    readiness({
      status: history.status,
      now: history.now(),
      startedAt: history.startedAt,
      lastCompletedAt: history.lastCompletedAt,
      batchInterval: history.batchInterval,
      intervals: options.readinessIntervals,
    })
  const routes = { history, registry: options.registry, assets, events, ready }
  const server = createServer((request, response) => {
    handle(routes, request, response).catch((error: unknown) => {
      options.logger.warn('the UI server failed to answer a request', { url: request.url, error })
      if (!response.headersSent) send(response, json(500, { error: messageOf(error) }))
      else response.destroy()
    })
  })
  // Errors after listen (a client resetting its connection) are per-connection; they never stop the job.
  server.on('clientError', (_error, socket) => socket.destroy())
  try {
    await listen(server, options.host, options.port)
  } catch (error) {
    stopWatching()
    events.close()
    throw error
  }
  const { port } = server.address() as AddressInfo
  const hostInUrl = options.host.includes(':') ? `[${options.host}]` : options.host
  let closing: Promise<void> | undefined
  return {
    url: `http://${hostInUrl}:${port}/`,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        stopWatching()
        events.close()
        server.close(() => resolve())
        server.closeAllConnections()
      })
      return closing
    },
  }
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening)
      const where = `${host}:${port}`
      const problem =
        error.code === 'EADDRINUSE'
          ? `${where} is already in use (another job's UI, or Spark's, on the same port?): set ui.port to a free port, or 0 for any`
          : error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN'
            ? `${where} is not an address of this machine: check ui.host`
            : error.code === 'EACCES'
              ? `listening on ${where} needs privileges: use a port above 1023`
              : `cannot listen on ${where}: ${error.message}`
      reject(
        new SluiceError(ErrorCodes.UI_SERVER, `the UI could not start: ${problem}`, {
          cause: error,
          details: { host, port, code: error.code },
        }),
      )
    }
    const onListening = () => {
      server.off('error', onError)
      resolve()
    }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen(port, host)
  })
}

interface Routes {
  readonly history: JobHistory
  readonly registry: Registry
  readonly assets: ReadonlyMap<string, Asset>
  readonly events: EventStream
  readonly ready: () => Readiness
}

/** What to answer: a status and a body, JSON unless a content type is given. */
interface Reply {
  readonly status: number
  readonly body: unknown
  readonly contentType?: string
  readonly headers?: Record<string, string>
}

const json = (status: number, body: unknown, headers?: Record<string, string>): Reply => ({
  status,
  body,
  ...(headers ? { headers } : {}),
})

async function handle(routes: Routes, request: IncomingMessage, response: ServerResponse): Promise<void> {
  for (const [name, value] of Object.entries(securityHeaders)) response.setHeader(name, value)
  const url = new URL(request.url ?? '/', 'http://localhost')
  if ((request.method === 'GET' || request.method === 'HEAD') && url.pathname === '/api/events') {
    // The event stream takes the response over until the page or the server closes it.
    if (routes.events.add(response)) return
    return send(response, json(503, { error: 'too many live pages are open' }))
  }
  send(response, await reply(routes, request.method, url))
}

async function reply(routes: Routes, method: string | undefined, url: URL): Promise<Reply> {
  if (method !== 'GET' && method !== 'HEAD') {
    return json(405, { error: `${method} is not allowed: this server is read-only` }, { allow: 'GET, HEAD' })
  }
  const path = url.pathname
  const { history } = routes
  if (path === '/metrics') {
    return { status: 200, body: await routes.registry.metrics(), contentType: routes.registry.contentType }
  }
  if (path === '/healthz') {
    // Alive unless the stream stopped on a failure: a process whose job died should be restarted.
    const failed = history.status === 'failed'
    return json(failed ? 503 : 200, {
      status: failed ? 'failed' : 'alive',
      stream: history.status,
      ...(history.error ? { error: history.error } : {}),
    })
  }
  if (path === '/readyz') {
    const state = routes.ready()
    return json(state.ready ? 200 : 503, state)
  }
  if (path.startsWith('/api/')) {
    try {
      return { ...api(routes, path, url.searchParams), headers: { 'cache-control': 'no-store' } }
    } catch (error) {
      if (error instanceof BadRequest) return json(400, { error: error.message })
      throw error
    }
  }
  const asset = path.startsWith('/static/')
    ? routes.assets.get(path.slice('/static/'.length))
    : path === '/favicon.ico'
      ? routes.assets.get('favicon.svg')
      : pagePaths.test(path)
        ? routes.assets.get('page.html')
        : undefined
  if (!asset) return json(404, { error: `no such page: ${path}` })
  return {
    status: 200,
    body: asset.body,
    contentType: asset.contentType,
    headers: { 'cache-control': 'no-cache' },
  }
}

const batchStatuses: readonly BatchStatusFilter[] = ['finished', 'completed', 'failed', 'active']

function api(routes: Routes, path: string, query: URLSearchParams): Reply {
  const { history } = routes
  const keep = history.finished.capacity
  if (path === '/api/app') return json(200, appDocument(history, routes.ready()))
  if (path === '/api/batches') {
    const status = (query.get('status') ?? 'finished') as BatchStatusFilter
    if (!batchStatuses.includes(status)) {
      throw new BadRequest(`status must be one of ${batchStatuses.join(', ')}, got ${JSON.stringify(status)}`)
    }
    const offset = integerParam(query, 'offset', 0, 0, keep)
    const limit = integerParam(query, 'limit', 20, 1, keep)
    return json(200, batchPage(history, status, offset, limit))
  }
  const batch = /^\/api\/batches\/(\d+)$/.exec(path)
  if (batch) {
    const id = Number(batch[1])
    const document = batchDocument(history, id)
    return document ? json(200, document) : json(404, { error: `batch ${id} is not in the UI's history` })
  }
  if (path === '/api/statistics') {
    return json(200, statisticsDocument(history, integerParam(query, 'limit', keep, 1, keep)))
  }
  if (path === '/api/partitions') {
    return json(200, partitionsDocument(history, integerParam(query, 'limit', keep, 1, keep)))
  }
  return json(404, { error: `no such API document: ${path}` })
}

class BadRequest extends Error {}

function integerParam(
  query: URLSearchParams,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = query.get(name)
  if (raw === null) return fallback
  const value = Number(raw)
  if (!/^\d+$/.test(raw) || value < min) {
    throw new BadRequest(`${name} must be an integer of at least ${min}, got ${JSON.stringify(raw)}`)
  }
  return Math.min(value, max)
}

function send(response: ServerResponse, reply: Reply): void {
  const isBytes = typeof reply.body === 'string' || Buffer.isBuffer(reply.body)
  const body = isBytes ? (reply.body as string | Buffer) : JSON.stringify(reply.body)
  response.writeHead(reply.status, {
    ...reply.headers,
    'content-type': reply.contentType ?? 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  })
  response.end(response.req.method === 'HEAD' ? undefined : body)
}
