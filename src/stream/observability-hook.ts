import { ErrorCodes, messageOf, SluiceError } from '../core/errors.ts'
import type { UiOptions } from './context-options.ts'

/** What the observability module returns once its server listens. */
export interface ObservabilityHandle {
  readonly url: string
  close(): Promise<void>
}

/**
 * The web UI and metrics live in src/observe, above the stream layer: observe imports the
 * stream, never the reverse. So the context loads it only when a job asks for a UI, at
 * start, by a dynamic import whose path is not a literal — no import at load time, and jobs
 * without a UI never load prom-client or the server. The extension follows this module's
 * own: `.ts` run from the sources, `.js` from the built package.
 */
const observeModule = `../observe/index${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`

export async function attachObservability(
  context: object,
  ui: Exclude<UiOptions, false>,
  modulePath: string = observeModule,
): Promise<ObservabilityHandle> {
  let observe: { attachObservability?: (context: object, options: object) => Promise<ObservabilityHandle> }
  try {
    observe = await import(modulePath)
  } catch (error) {
    if (
      (error as { code?: unknown }).code === 'ERR_MODULE_NOT_FOUND' &&
      messageOf(error).includes('observe')
    ) {
      throw notAvailable()
    }
    throw error
  }
  if (typeof observe.attachObservability !== 'function') throw notAvailable()
  return observe.attachObservability(context, ui === true ? {} : ui)
}

function notAvailable(): SluiceError {
  return new SluiceError(
    ErrorCodes.INVALID_OPTION,
    "option 'ui': the web UI and metrics server are not available in this build of sluice (src/observe is missing)",
    { details: { option: 'ui' } },
  )
}
