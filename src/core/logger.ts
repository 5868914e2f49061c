import { describeReceived } from './describe-value.ts'
import { invalidOption } from './errors.ts'
import { customOption, functionOption, oneOf, optionsObject, parseOptions } from './options.ts'

/**
 * A small structured logger. Library code logs through it (never console.log) so that
 * applications can route sluice's messages into their own logging by passing a Logger, or
 * a pino-compatible one (see pino-logger.ts). The level comes from `SLUICE_LOG_LEVEL`
 * (debug, info, warn, error, silent; default info) unless one is given.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'

/** Structured fields of a log line. */
export type LogFields = Record<string, unknown>

/** Where sluice's log lines go: `createLogger()`'s JSON lines by default; pass your own (pino's loggers fit) to route them. */
export interface Logger {
  debug(message: string, fields?: LogFields): void
  info(message: string, fields?: LogFields): void
  warn(message: string, fields?: LogFields): void
  error(message: string, fields?: LogFields): void
  child(bindings: LogFields): Logger
}

/**
 * The logger createLogger makes: sluice's call order, `info(message, fields)`, and pino's,
 * `info(fields, message)`, both work, so it can also be handed to code written for pino.
 */
export interface StructuredLogger extends Logger {
  debug(message: string, fields?: LogFields): void
  debug(fields: LogFields, message?: string): void
  info(message: string, fields?: LogFields): void
  info(fields: LogFields, message?: string): void
  warn(message: string, fields?: LogFields): void
  warn(fields: LogFields, message?: string): void
  error(message: string, fields?: LogFields): void
  error(fields: LogFields, message?: string): void
  child(bindings: LogFields): StructuredLogger
}

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }

/** Receives each formatted log line (ending in a newline). */
export type LogSink = (line: string) => void

/** Options of `createLogger`. */
export interface ConsoleLoggerOptions {
  /** The least severe level written. Default: SLUICE_LOG_LEVEL, else 'info'. */
  level?: LogLevel
  /** Where formatted lines go; stderr by default so stdout stays the program's own. */
  sink?: LogSink
  /** Fields added to every line. */
  bindings?: LogFields
}

const loggerOptions = optionsObject({
  level: oneOf(['debug', 'info', 'warn', 'error', 'silent']),
  sink: functionOption<LogSink>(),
  bindings: customOption<LogFields>('an object of fields', (value, path) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw invalidOption(path, `must be an object of fields, got ${describeReceived(value)}`)
    }
    return value as LogFields
  }),
})

function levelFromEnv(): LogLevel {
  const raw = process.env.SLUICE_LOG_LEVEL
  return raw !== undefined && raw in rank ? (raw as LogLevel) : 'info'
}

/** JSON replacer: bigint offsets print as decimal strings, errors as their message and code. */
export function logReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code
    return code === undefined ? value.message : { code, message: value.message }
  }
  return value
}

/** Writes one JSON object per line: `{"time":...,"level":"warn","msg":"...",...fields}`. */
export function createLogger(options: ConsoleLoggerOptions = {}): StructuredLogger {
  parseOptions(loggerOptions, options, 'createLogger')
  const threshold = rank[options.level ?? levelFromEnv()]
  const sink: LogSink = options.sink ?? ((line) => process.stderr.write(line))
  const bindings = options.bindings ?? {}
  const emit = (level: Exclude<LogLevel, 'silent'>, first: unknown, second: unknown) => {
    if (rank[level] < threshold) return
    // sluice's order is (message, fields); pino's is (fields, message).
    const pinoOrder = typeof first !== 'string' && first !== undefined
    const message = pinoOrder ? second : first
    const fields = (pinoOrder ? first : second) as LogFields | undefined
    const entry = { time: new Date().toISOString(), level, msg: message ?? '', ...bindings, ...fields }
    sink(`${JSON.stringify(entry, logReplacer)}\n`)
  }
  return {
    debug: (first: unknown, second?: unknown) => emit('debug', first, second),
    info: (first: unknown, second?: unknown) => emit('info', first, second),
    warn: (first: unknown, second?: unknown) => emit('warn', first, second),
    error: (first: unknown, second?: unknown) => emit('error', first, second),
    child: (more: LogFields) => createLogger({ ...options, bindings: { ...bindings, ...more } }),
  } as StructuredLogger
}

/** A logger that drops everything; handy in tests that assert on other outputs. */
export const silentLogger: StructuredLogger = createLogger({ level: 'silent' })
