import type { Registry } from 'prom-client'
import { describeValue } from '../core/describe-value.ts'
import { invalidOption } from '../core/errors.ts'

/** The `ui` option of a StreamingContext: `true` for the defaults, or these settings. */
export interface UiOptions {
  /** TCP port of the UI, /metrics, /healthz, /readyz and /api. Default 4040 (Spark's); 0 picks a free one. */
  readonly port?: number
  /** Interface to listen on. Default 127.0.0.1: the UI is not exposed beyond the machine unless asked. */
  readonly host?: string
  /** Finished batches the UI and the API keep (a ring: older ones are dropped). Default 1000. */
  readonly historySize?: number
  /** prom-client registry to register sluice's metrics on; /metrics serves it. Default: sluice's own. */
  readonly registry?: Registry
  /** /readyz answers 503 once no batch has finished for this many batch intervals. Default 10. */
  readonly readinessIntervals?: number
}

export type UiOption = boolean | UiOptions

export interface ResolvedUiOptions {
  readonly port: number
  readonly host: string
  readonly historySize: number
  readonly registry: Registry | undefined
  readonly readinessIntervals: number
}

export const uiDefaults = {
  port: 4040,
  host: '127.0.0.1',
  historySize: 1000,
  readinessIntervals: 10,
} as const

const knownKeys = ['port', 'host', 'historySize', 'registry', 'readinessIntervals'] as const

/** Checks the `ui` option; returns undefined when the UI is off. */
export function resolveUiOptions(option: unknown): ResolvedUiOptions | undefined {
  if (option === undefined || option === false) return undefined
  if (option === true) return { ...uiDefaults, registry: undefined }
  if (option === null || typeof option !== 'object' || Array.isArray(option)) {
    throw invalidOption('ui', `must be true, false or an object of UI settings, got ${describeValue(option)}`)
  }
  const settings = option as Record<string, unknown>
  for (const key of Object.keys(settings)) {
    if (!(knownKeys as readonly string[]).includes(key)) {
      throw invalidOption(`ui.${key}`, `is not a UI setting (known: ${knownKeys.join(', ')})`)
    }
  }
  const { port = uiDefaults.port, host = uiDefaults.host, registry } = settings
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65_535) {
    throw invalidOption(
      'ui.port',
      `must be an integer from 0 to 65535 (0: any free port), got ${describeValue(port)}`,
    )
  }
  if (typeof host !== 'string' || host.trim() === '') {
    throw invalidOption('ui.host', `must be a host name or address, got ${describeValue(host)}`)
  }
  const historySize = integerSetting('ui.historySize', settings.historySize, uiDefaults.historySize, 100_000)
  const readinessIntervals = integerSetting(
    'ui.readinessIntervals',
    settings.readinessIntervals,
    uiDefaults.readinessIntervals,
    1_000_000,
  )
  if (registry !== undefined && !isRegistry(registry)) {
    throw invalidOption('ui.registry', `must be a prom-client Registry, got ${describeValue(registry)}`)
  }
  return { port, host, historySize, registry, readinessIntervals }
}

function integerSetting(option: string, value: unknown, fallback: number, max: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw invalidOption(option, `must be an integer from 1 to ${max}, got ${describeValue(value)}`)
  }
  return value
}

/** Duck-typed: the application may load its own copy of prom-client, whose class differs from ours. */
function isRegistry(value: unknown): value is Registry {
  const candidate = value as Partial<Registry> | null
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.metrics === 'function' &&
    typeof candidate.registerMetric === 'function' &&
    typeof candidate.getSingleMetric === 'function'
  )
}
