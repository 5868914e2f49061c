// The observability of a running job: a history of its batches fed by listener events,
// Prometheus metrics, and the HTTP server of the web UI, /metrics, /healthz, /readyz and the
// JSON API. The StreamingContext loads this module lazily, only when its `ui` option is set,
// so jobs without a UI never load prom-client or open a port.
import type { StreamingContext } from '../stream/streaming-context.ts'
import { resolveUiOptions, type UiOption } from './ui-options.ts'

export type { UiOption, UiOptions } from './ui-options.ts'

import { JobHistory } from './history.ts'
import { startObservabilityServer } from './http-server.ts'
import { SluiceMetrics, sluiceRegistry } from './metrics.ts'

export interface Observability {
  /** The UI's address, e.g. http://127.0.0.1:4040/ */
  readonly url: string
  /** The history behind the UI and the API. */
  readonly history: JobHistory
  /** Stops the server and the metrics of this job; the job itself runs on. */
  close(): Promise<void>
}

/**
 * Starts the UI and metrics of `context`. Call it before `start()` to see the job from its
 * first event; the StreamingContext does so itself when given the `ui` option. A port in use
 * fails here with an error naming host:port.
 */
export async function attachObservability(
  context: StreamingContext,
  option: UiOption = true,
): Promise<Observability> {
  const options = resolveUiOptions(option) ?? resolveUiOptions(true)!
  const registry = options.registry ?? sluiceRegistry()
  const history = new JobHistory({
    app: context.appName,
    batchInterval: context.batchInterval,
    historySize: options.historySize,
    contextState: () => context.state,
  })
  const metrics = SluiceMetrics.of(registry).listen(context.appName)
  const server = await startObservabilityServer({
    host: options.host,
    port: options.port,
    history,
    registry,
    readinessIntervals: options.readinessIntervals,
    logger: context.logger,
  }).catch(async (error: unknown) => {
    await metrics.stop()
    throw error
  })
  context.addListener(history)
  context.addListener(metrics.listener)
  let closing: Promise<void> | undefined
  return {
    url: server.url,
    history,
    close() {
      closing ??= (async () => {
        context.removeListener(history)
        context.removeListener(metrics.listener)
        await Promise.all([server.close(), metrics.stop()])
      })()
      return closing
    },
  }
}
