import { createLogger, type Logger, type LogLevel } from '../../src/core/logger.ts'

/** One log line as the logger wrote it: `time`, `level`, `msg`, then the line's fields. */
export type LogEntry = Record<string, unknown> & { readonly level: LogLevel; readonly msg: string }

export interface RecordingLogger {
  readonly logger: Logger
  /** Every entry at or above the logger's level, in order. */
  readonly entries: LogEntry[]
  /** The messages of the entries at `level` (every entry's, without one), in order. */
  messages(level?: LogLevel): string[]
}

/** A logger whose lines the test can inspect (parsed), from `level` up (default debug). */
export function recordingLogger(level: LogLevel = 'debug'): RecordingLogger {
  const entries: LogEntry[] = []
  const logger = createLogger({ level, sink: (line) => entries.push(JSON.parse(line) as LogEntry) })
  return {
    logger,
    entries,
    messages: (wanted) => entries.filter((e) => wanted === undefined || e.level === wanted).map((e) => e.msg),
  }
}
