import { ErrorCodes, SluiceError } from '../core/errors.ts'

/**
 * Every refusal to use a checkpoint says what was found, what was expected and what the
 * user can do about it. Deleting the directory is always a way out, but it also forgets
 * the stream's offsets, so the messages say so plainly ("start over").
 */

/** The on-disk format this code writes; bumped only with a migration path. */
export const CHECKPOINT_FORMAT_VERSION = 2

/** Every format this code reads: format 1 is upgraded as it is read (see planned-batch-v1.ts). */
export const READABLE_FORMAT_VERSIONS: readonly number[] = [1, 2]

export function startOver(dir: string): string {
  return `use another checkpoint directory, or delete '${dir}' to start over`
}

/** A file that cannot be trusted (truncated, edited, damaged or malformed). */
export function damagedFile(file: string, dir: string, problem: string, cause?: unknown): SluiceError {
  return new SluiceError(
    ErrorCodes.CHECKPOINT,
    `checkpoint file '${file}' ${problem}; restore it from a backup, or delete '${dir}' to start over`,
    { cause, details: { file, dir } },
  )
}

export function unknownFormatVersion(
  file: string,
  dir: string,
  found: unknown,
  readable: readonly number[] = READABLE_FORMAT_VERSIONS,
): SluiceError {
  const versions = readable.length === 1 ? `version ${readable[0]}` : `versions ${readable.join(' and ')}`
  const newer = typeof found === 'number' && found > Math.max(...readable)
  return new SluiceError(
    ErrorCodes.CHECKPOINT,
    `checkpoint file '${file}' has format version ${JSON.stringify(found)}, but this sluice reads ${versions}` +
      `${newer ? ' (it was written by a newer sluice: upgrade this one)' : ''}; ${startOver(dir)}`,
    { details: { file, dir, found, readable } },
  )
}

/** The directory's files disagree with each other (for example a commit without its plan). */
export function inconsistentDirectory(dir: string, problem: string): SluiceError {
  return new SluiceError(
    ErrorCodes.CHECKPOINT,
    `checkpoint directory '${dir}' is inconsistent: ${problem}; restore it from a backup, or delete it to start over`,
    { details: { dir } },
  )
}
