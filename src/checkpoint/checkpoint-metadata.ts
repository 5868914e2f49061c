import { ErrorCodes, SluiceError } from '../core/errors.ts'
import { startOver } from './checkpoint-errors.ts'
import { FieldReader } from './field-reader.ts'
import { seal, unseal } from './sealed-json.ts'

/** `<dir>/metadata`: who owns the checkpoint directory, written the first time it is used. */
export interface CheckpointMetadata {
  readonly appName: string
  /** When the directory was first used, in milliseconds since the epoch. */
  readonly createdAt: number
  /** The format the file was read in (older formats are rewritten in the current one on open). */
  readonly version?: number
}

export function encodeCheckpointMetadata(metadata: CheckpointMetadata): string {
  return seal({ appName: metadata.appName, createdAt: metadata.createdAt })
}

export function decodeCheckpointMetadata(text: string, file: string, dir: string): CheckpointMetadata {
  const { version, fields } = unseal(text, file, dir)
  const read = new FieldReader(file, dir)
  return {
    appName: read.nonEmptyString(fields.appName, 'appName'),
    createdAt: read.nonNegativeInteger(fields.createdAt, 'createdAt'),
    version,
  }
}

/**
 * Two applications sharing one directory would each resume from the other's offsets, so a
 * directory written by another `appName` is refused rather than adopted.
 */
export function assertSameApplication(metadata: CheckpointMetadata, appName: string, dir: string): void {
  if (metadata.appName === appName) return
  throw new SluiceError(
    ErrorCodes.CHECKPOINT,
    `checkpoint directory '${dir}' belongs to application '${metadata.appName}', not '${appName}'; ${startOver(dir)}`,
    { details: { dir, found: metadata.appName, expected: appName } },
  )
}
