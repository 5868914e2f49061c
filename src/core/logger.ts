import { describeReceived } from './describe-value.ts'
import { invalidOption } from './errors.ts'
import { customOption, functionOption, oneOf, optionsObject, parseOptions } from './options.ts'

/**
 * A small structured logger. Library code logs through it (never console.log) so that
 * applications can route sluice's messages into their own logging by passing a Logger.
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
function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code
    return code === undefined ? value.message : { code, message: value.message }
  }
  return value
}

/** Writes one JSON object per line: `{"time":...,"level":"warn","msg":"...",...fields}`. */
export function createLogger(options: ConsoleLoggerOptions = {}): Logger {
  parseOptions(loggerOptions, options, 'createLogger')
  const threshold = rank[options.level ?? levelFromEnv()]
  const sink: LogSink = options.sink ?? ((line) => process.stderr.write(line))
  const bindings = options.bindings ?? {}
  const emit = (level: Exclude<LogLevel, 'silent'>, message: string, fields?: LogFields) => {
    if (rank[level] < threshold) return
    const entry = { time: new Date().toISOString(), level, msg: message, ...bindings, ...fields }
    sink(`${JSON.stringify(entry, replacer)}\n`)
  }
  return {
    debug: (message, fields) => emit('debug', message, fields),
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
    child: (more) => createLogger({ ...options, bindings: { ...bindings, ...more } }),
  }
}

/** A logger that drops everything; handy in tests that assert on other outputs. */
export const silentLogger: Logger = createLogger({ level: 'silent' })
