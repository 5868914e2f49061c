// Plays an open UI page and a Prometheus server against a job's UI, from its own process as
// they would be. Told on stdin `watch <url>`, it follows that UI's /api/events and, on
// changes (at most every 400 ms, the page's rhythm), fetches the Streaming page's documents;
// it scrapes /metrics every 5 seconds (three times as often as a usual 15 s scrape interval).
// It answers `watching` once it follows the events. Told `unwatch`, it stops and answers with
// the requests it made and the CPU time it used while watching, as JSON. Its clocks run
// across watches, so a UI watched in short spells still sees the page's and the scraper's
// rates over the time it is watched. Told `record <json>` and then `watch-stand-in`, it
// starts a stand-in UI replaying a batch of the job (bench/ui-stand-in.ts) in this process
// and watches that, counting the stand-in's CPU time (after its start) with its own.
import { createInterface } from 'node:readline'
import type { Observability } from '../../src/observe/index.ts'
import { type BatchRecording, startStandIn } from '../ui-stand-in.ts'

interface Watch {
  readonly url: string
  readonly abort: AbortController
  readonly cpuAtStart: NodeJS.CpuUsage
  requests: number
  changed: boolean
}

let current: Watch | undefined
/** What the stand-in UI replays (bench/ui-stand-in.ts), once the job sent it. */
let recording: BatchRecording | undefined
let standIn: Observability | undefined

async function get(watch: Watch, path: string): Promise<void> {
  try {
    const response = await fetch(new URL(path, watch.url), { signal: watch.abort.signal })
    await response.arrayBuffer()
    watch.requests++
  } catch {
    // Unwatched, or the UI closed while the request was out.
  }
}

async function watch(url: string): Promise<Watch> {
  const state: Watch = {
    url,
    abort: new AbortController(),
    cpuAtStart: process.cpuUsage(),
    requests: 0,
    changed: false,
  }
  const events = await fetch(new URL('/api/events', url), { signal: state.abort.signal })
  void (async () => {
    try {
      for await (const text of events.body!.pipeThrough(new TextDecoderStream())) {
        if (text.includes('event: change')) state.changed = true
      }
    } catch {}
  })()
  return state
}

setInterval(() => {
  const watching = current
  if (!watching?.changed) return
  watching.changed = false
  void Promise.all([
    get(watching, '/api/app'),
    get(watching, '/api/statistics'),
    get(watching, '/api/batches?status=active&limit=50'),
    get(watching, '/api/batches?status=finished&limit=10'),
  ])
}, 400).unref()
setInterval(() => {
  if (current) void get(current, '/metrics')
}, 5000).unref()

for await (const line of createInterface({ input: process.stdin })) {
  const space = line.indexOf(' ')
  const [command, argument] = space < 0 ? [line, ''] : [line.slice(0, space), line.slice(space + 1)]
  if (command === 'record') {
    recording = JSON.parse(argument) as BatchRecording
    process.stdout.write('recorded\n')
  } else if (command === 'watch' && argument) {
    current = await watch(argument)
    process.stdout.write('watching\n')
  } else if (command === 'watch-stand-in' && recording) {
    // The stand-in's work counts with the watcher's (it is the load the job's UI would be),
    // except its start, as the job's segments leave out the UI's.
    standIn = await startStandIn(recording)
    current = await watch(standIn.url)
    process.stdout.write('watching\n')
  } else if (command === 'unwatch' && current) {
    const { abort, cpuAtStart, requests } = current
    current = undefined
    abort.abort()
    await standIn?.close()
    standIn = undefined
    const { user, system } = process.cpuUsage(cpuAtStart)
    process.stdout.write(`${JSON.stringify({ requests, cpuMs: Math.round((user + system) / 1000) })}\n`)
  }
}
