// The pages read everything they show from the job's JSON API, the same documents a script
// or a dashboard would read.

export async function getJson(path) {
  const response = await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store' })
  const body = await response.json().catch(() => ({}))
  if (!response.ok) {
    const error = new Error(body.error ?? `${path} answered ${response.status}`)
    error.status = response.status
    throw error
  }
  return body
}

/**
 * Calls `refresh` now and whenever the job changes (server-sent events from /api/events), at
 * most every `minGapMs`; also every `idleMs` without a change (a stalled job changes nothing,
 * and its header should still say so), and every `fallbackMs` while the event stream is down.
 * `onState` hears 'on' or 'off' for the live indicator.
 */
export function live(refresh, onState, { minGapMs = 400, fallbackMs = 5000, idleMs = 10_000 } = {}) {
  let pending = false
  let running = false
  let again = false
  let last = 0
  const run = async () => {
    if (running) {
      again = true
      return
    }
    running = true
    pending = false
    last = Date.now()
    try {
      await refresh()
    } finally {
      running = false
      if (again) {
        again = false
        schedule()
      }
    }
  }
  const schedule = () => {
    if (pending) return
    pending = true
    setTimeout(run, Math.max(0, minGapMs - (Date.now() - last)))
  }
  let connected = false
  const source = new EventSource('/api/events')
  source.addEventListener('open', () => {
    connected = true
    onState('on')
    schedule()
  })
  source.addEventListener('change', schedule)
  source.addEventListener('error', () => {
    connected = false
    onState('off')
  })
  // Polls while the stream is down (the job restarting, a proxy without streaming support).
  setInterval(() => {
    if (!connected || Date.now() - last >= idleMs) schedule()
  }, fallbackMs)
  schedule()
}
