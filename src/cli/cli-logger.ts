import { createLogger, type Logger } from '../core/logger.ts'

/**
 * The logger of a command: warnings and errors only, on stderr, unless SLUICE_LOG_LEVEL asks
 * for more — a command's output is its own lines, not the library's info logs.
 */
export function cliLogger(): Logger {
  return createLogger({ level: process.env.SLUICE_LOG_LEVEL === undefined ? 'warn' : undefined })
}
