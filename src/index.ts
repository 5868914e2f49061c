// The one public barrel: everything users import from 'sluice' is re-exported here.

export type { ErrorCode, SluiceErrorOptions } from './core/errors.ts'
export { ErrorCodes, isSluiceError, SluiceError } from './core/errors.ts'
export type { LogFields, Logger, LogLevel } from './core/logger.ts'
export { createLogger, silentLogger } from './core/logger.ts'
