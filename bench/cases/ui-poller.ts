// Plays an open UI page and a Prometheus server against a job's UI, from its own process as
// they would be: follows /api/events and, on changes (at most every 400 ms, the page's
// rhythm), fetches the Streaming page's documents; scrapes /metrics every 5 seconds (three
// times as often as a usual 15 s scrape interval). On SIGTERM it prints how many requests it
// made and the CPU time it used since it began polling.
const url = process.argv[2]
if (!url) throw new Error('usage: ui-poller.ts <ui url>')
let requests = 0
let cpuAtStart: NodeJS.CpuUsage | undefined
let changed = false
const get = async (path: string) => {
  try {
    const response = await fetch(new URL(path, url))
    await response.arrayBuffer()
    requests++
  } catch {
    // The job is stopping: the bench ends this process next.
  }
}
const events = await fetch(new URL('/api/events', url))
void (async () => {
  try {
    for await (const text of events.body!.pipeThrough(new TextDecoderStream())) {
      if (text.includes('event: change')) changed = true
    }
  } catch {}
})()
setInterval(() => {
  if (!changed) return
  changed = false
  void Promise.all([
    get('/api/app'),
    get('/api/statistics'),
    get('/api/batches?status=active&limit=50'),
    get('/api/batches?status=finished&limit=10'),
  ])
}, 400)
setInterval(() => void get('/metrics'), 5000)
process.once('SIGTERM', () => {
  const { user, system } = process.cpuUsage(cpuAtStart)
  process.stdout.write(`${JSON.stringify({ requests, cpuMs: Math.round((user + system) / 1000) })}\n`)
  process.exit(0)
})
cpuAtStart = process.cpuUsage()
process.stdout.write('polling\n')
