// The web UI and metrics of a benchmark job, watched from another process the way an open
// UI page and a Prometheus server watch a real job (bench/cases/ui-poller.ts).
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { attachObservability } from '../src/observe/index.ts'
import type { StreamingContext } from '../src/stream/streaming-context.ts'

export interface WatcherReport {
  readonly requests: number
  readonly cpuMs: number
}

export async function watchUi(ssc: StreamingContext): Promise<{ stop(): Promise<WatcherReport> }> {
  const ui = await attachObservability(ssc, { port: 0 })
  const poller = spawn(process.execPath, [join(import.meta.dirname, 'cases', 'ui-poller.ts'), ui.url], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const lines = createInterface({ input: poller.stdout! })[Symbol.asyncIterator]()
  await lines.next() // "polling": it follows the job's events from here on
  return {
    /** Stops the watcher and the UI; returns the requests the watcher made and its CPU time. */
    async stop() {
      poller.kill('SIGTERM')
      const { value } = await lines.next()
      await ui.close()
      return JSON.parse(String(value)) as WatcherReport
    },
  }
}
