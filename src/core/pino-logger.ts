import { createLogger, type LogFields, type Logger, logReplacer } from './logger.ts'

type PinoMethod = (fields: Record<string, unknown>, message?: string) => void

/**
 * A logger with pino's call order, `info(fields, message)`: pino itself, and loggers made to
 * look like it (bunyan, pino-compatible wrappers). `child(bindings)` must return one too.
 */
export interface PinoLikeLogger {
  debug: PinoMethod
  info: PinoMethod
  warn: PinoMethod
  error: PinoMethod
  child(bindings: Record<string, unknown>): PinoLikeLogger
}

/**
 * Whether `logger` takes pino's call order. Pino loggers (and bunyan's) carry their level
 * and the means to ask about it; sluice's Logger interface has neither, so a logger that has
 * them is called the pino way.
 */
export function isPinoLike(logger: unknown): logger is PinoLikeLogger {
  const candidate = logger as Record<string, unknown> | null
  return (
    candidate !== null &&
    typeof candidate === 'object' &&
    (typeof candidate.isLevelEnabled === 'function' ||
      typeof candidate.bindings === 'function' ||
      (typeof candidate.levels === 'object' && candidate.levels !== null))
  )
}

/**
 * sluice's Logger over a pino-compatible one. Fields are made plain JSON first: pino cannot
 * serialize bigints (offsets), and prints an Error under any key but `err` as `{}`.
 */
export function fromPino(pino: PinoLikeLogger): Logger {
  const call = (method: PinoMethod, message: string, fields?: LogFields) =>
    method.call(pino, fields === undefined ? {} : plainFields(fields), message)
  return {
    debug: (message, fields) => call(pino.debug, message, fields),
    info: (message, fields) => call(pino.info, message, fields),
    warn: (message, fields) => call(pino.warn, message, fields),
    error: (message, fields) => call(pino.error, message, fields),
    child: (bindings) => fromPino(pino.child(plainFields(bindings))),
  }
}

/**
 * The logger behind a `logger` option (already checked to have sluice's five methods): the
 * default, sluice's own kind, or a pino-compatible one.
 */
export function adaptLogger(logger: Logger | PinoLikeLogger | undefined): Logger {
  if (logger === undefined) return createLogger()
  return isPinoLike(logger) ? fromPino(logger) : (logger as Logger)
}

function plainFields(fields: LogFields): Record<string, unknown> {
  return JSON.parse(JSON.stringify(fields, pinoReplacer)) as Record<string, unknown>
}

/** Like sluice's own JSON lines, but an Error keeps pino's err shape: type, message, code, stack. */
function pinoReplacer(key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code
    return {
      type: value.name,
      message: value.message,
      ...(code === undefined ? {} : { code }),
      stack: value.stack,
    }
  }
  return logReplacer(key, value)
}
